"""The interface shared by both version schemes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

# Pre-release labels in their order of maturity.
PRE_LABELS = ("alpha", "beta", "rc")

Release = tuple[int, int, int]
Pre = tuple[str, int]


class Version(ABC):
    """A version of one scheme: totally ordered, hashable, ``str()`` round-trips."""

    scheme: str

    @property
    @abstractmethod
    def release(self) -> Release:
        """``(major, minor, patch)``."""

    @property
    @abstractmethod
    def pre(self) -> Pre | None:
        """``(label, number)`` for a pre-release of the alpha/beta/rc kind, else None.

        Raises VersionError for a pre-release that does not follow that shape.
        """

    @property
    @abstractmethod
    def is_prerelease(self) -> bool: ...

    @abstractmethod
    def with_parts(self, release: Release, pre: Pre | None) -> Version:
        """A version of the same scheme with this release and pre-release (no build)."""

    @abstractmethod
    def _key(self) -> tuple[Any, ...]: ...

    @property
    def major(self) -> int:
        return self.release[0]

    @property
    def minor(self) -> int:
        return self.release[1]

    @property
    def patch(self) -> int:
        return self.release[2]

    def _check(self, other: object) -> Version:
        if not isinstance(other, Version) or other.scheme != self.scheme:
            raise TypeError(f"cannot compare {self!r} with {other!r}")
        return other

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version) or other.scheme != self.scheme:
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash((self.scheme, self._key()))

    def __lt__(self, other: object) -> bool:
        return self._key() < self._check(other)._key()

    def __le__(self, other: object) -> bool:
        return self._key() <= self._check(other)._key()

    def __gt__(self, other: object) -> bool:
        return self._key() > self._check(other)._key()

    def __ge__(self, other: object) -> bool:
        return self._key() >= self._check(other)._key()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"
