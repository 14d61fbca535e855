"""SemVer 2.0.0, exactly as semver.org specifies it."""

from __future__ import annotations

import re
from typing import Any

from relkit.errors import VersionError
from relkit.version.base import Pre, Release, Version

_IDENT = re.compile(r"[0-9A-Za-z-]+")


def _numeric(part: str, what: str, text: str) -> int:
    if not part:
        raise VersionError(f"invalid version {text!r}: empty {what}")
    if not part.isdigit() or not part.isascii():
        raise VersionError(f"invalid version {text!r}: {what} {part!r} is not a number")
    if len(part) > 1 and part[0] == "0":
        raise VersionError(f"invalid version {text!r}: {what} {part!r} has a leading zero")
    return int(part)


def _identifiers(part: str, what: str, text: str) -> tuple[str, ...]:
    idents = tuple(part.split("."))
    for ident in idents:
        if not ident:
            raise VersionError(f"invalid version {text!r}: empty {what} identifier")
        if not _IDENT.fullmatch(ident):
            bad = next(c for c in ident if not (c.isascii() and (c.isalnum() or c == "-")))
            raise VersionError(f"invalid version {text!r}: character {bad!r} in {what} {part!r}")
    return idents


class SemVer(Version):
    """``MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]``; build metadata kept but not compared."""

    scheme = "semver"
    __slots__ = ("_build", "_prerelease", "_release")

    def __init__(
        self,
        release: Release,
        prerelease: tuple[str | int, ...] = (),
        build: tuple[str, ...] = (),
    ) -> None:
        self._release = release
        self._prerelease = prerelease
        self._build = build

    @classmethod
    def parse(cls, text: str) -> SemVer:
        if not isinstance(text, str) or not text:
            raise VersionError("invalid version '': empty version")
        if text != text.strip():
            raise VersionError(f"invalid version {text!r}: surrounding whitespace")
        if text[0] in "vV":
            raise VersionError(
                f"invalid version {text!r}: a SemVer version has no 'v' prefix",
                f"write {text[1:]!r}; tag_format adds the prefix to tags",
            )
        core, plus, build_text = text.partition("+")
        core, dash, pre_text = core.partition("-")
        parts = core.split(".")
        if len(parts) != 3:
            raise VersionError(f"invalid version {text!r}: expected MAJOR.MINOR.PATCH")
        names = ("major", "minor", "patch")
        major, minor, patch = (_numeric(p, n, text) for p, n in zip(parts, names, strict=True))
        prerelease: tuple[str | int, ...] = ()
        if dash:
            idents = _identifiers(pre_text, "pre-release", text)
            prerelease = tuple(
                _numeric(i, "pre-release identifier", text) if i.isdigit() else i for i in idents
            )
        build: tuple[str, ...] = ()
        if plus:
            build = _identifiers(build_text, "build metadata", text)
        return cls((major, minor, patch), prerelease, build)

    @property
    def release(self) -> Release:
        return self._release

    @property
    def prerelease(self) -> tuple[str | int, ...]:
        return self._prerelease

    @property
    def build(self) -> tuple[str, ...]:
        return self._build

    @property
    def is_prerelease(self) -> bool:
        return bool(self._prerelease)

    @property
    def pre(self) -> Pre | None:
        ids = self._prerelease
        if not ids:
            return None
        if isinstance(ids[0], str) and len(ids) == 1:
            return (ids[0], 0)
        if len(ids) == 2 and isinstance(ids[0], str) and isinstance(ids[1], int):
            return (ids[0], ids[1])
        raise VersionError(
            f"pre-release {'.'.join(map(str, ids))!r} of {self} is not of the form LABEL.N",
            "give the next version explicitly with --to",
        )

    def with_parts(self, release: Release, pre: Pre | None) -> SemVer:
        return SemVer(release, pre if pre is not None else ())

    def _key(self) -> tuple[Any, ...]:
        # A release sorts after its pre-releases; numeric identifiers sort before
        # alphanumeric ones; a longer identifier list wins when the prefix is equal.
        if not self._prerelease:
            return (self._release, 1, ())
        pre = tuple((0, i, "") if isinstance(i, int) else (1, 0, i) for i in self._prerelease)
        return (self._release, 0, pre)

    def __str__(self) -> str:
        text = "{}.{}.{}".format(*self._release)
        if self._prerelease:
            text += "-" + ".".join(map(str, self._prerelease))
        if self._build:
            text += "+" + ".".join(self._build)
        return text
