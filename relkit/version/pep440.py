"""PEP 440 versions, through ``packaging``."""

from __future__ import annotations

from typing import Any

from packaging.version import InvalidVersion
from packaging.version import Version as _Packaging

from relkit.errors import VersionError
from relkit.version.base import Pre, Release, Version

_TO_PEP = {"alpha": "a", "beta": "b", "rc": "rc"}
_FROM_PEP = {v: k for k, v in _TO_PEP.items()}


class Pep440Version(Version):
    """A PEP 440 version; ``str()`` gives the normalised form (``1.4.0rc1``)."""

    scheme = "pep440"
    __slots__ = ("_v",)

    def __init__(self, value: _Packaging) -> None:
        self._v = value

    @classmethod
    def parse(cls, text: str) -> Pep440Version:
        if not isinstance(text, str) or not text.strip():
            raise VersionError("invalid version '': empty version")
        try:
            return cls(_Packaging(text))
        except InvalidVersion:
            raise VersionError(
                f"invalid version {text!r}: not a PEP 440 version",
                "expected e.g. 1.4.0, 1.4.0rc1, 1.4.0.post1 or 1.4.0.dev2",
            ) from None

    @property
    def release(self) -> Release:
        parts = (*self._v.release, 0, 0)[:3]
        return (parts[0], parts[1], parts[2])

    @property
    def is_prerelease(self) -> bool:
        return self._v.is_prerelease

    @property
    def pre(self) -> Pre | None:
        if self._v.pre is None:
            if self._v.dev is not None:
                raise VersionError(
                    f"{self} is a development release",
                    "give the next version explicitly with --to",
                )
            return None
        label, number = self._v.pre
        return (_FROM_PEP[label], number)

    def with_parts(self, release: Release, pre: Pre | None) -> Pep440Version:
        # The same release keeps its components past the third (1.2.3.4rc1 finishes
        # as 1.2.3.4, not 1.2.3) and a finished 1.0.post1.dev2 is 1.0.post1: either
        # way the result must not sort below this version.
        same = release == self.release
        parts = (*self._v.release, 0, 0)[: max(3, len(self._v.release))] if same else release
        text = ".".join(map(str, parts))
        if self._v.epoch:
            text = f"{self._v.epoch}!{text}"
        if pre is not None:
            label, number = pre
            text += f"{_TO_PEP.get(label, label)}{number}"
        elif same and self._v.pre is None and self._v.post is not None:
            text += f".post{self._v.post}"
        return Pep440Version.parse(text)

    def _key(self) -> tuple[Any, ...]:
        return (self._v,)

    def __str__(self) -> str:
        return str(self._v)
