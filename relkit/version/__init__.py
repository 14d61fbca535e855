"""Versions: SemVer 2.0.0 and PEP 440, parsed into totally ordered values.

``parse(text, scheme)`` is the public entry point. Both schemes share the
small interface bumping needs (:class:`Version`): the release triple, an
optional ``(label, number)`` pre-release and a way to build a sibling.
"""

from __future__ import annotations

from relkit.version.base import PRE_LABELS, Version
from relkit.version.semver import SemVer

SCHEMES = ("semver", "pep440")


def parse(text: str, scheme: str = "semver") -> Version:
    """Parse *text* in *scheme*; raise :class:`relkit.errors.VersionError` with the reason."""
    if scheme == "semver":
        return SemVer.parse(text)
    if scheme == "pep440":
        from relkit.version.pep440 import Pep440Version

        return Pep440Version.parse(text)
    from relkit.errors import ConfigError

    raise ConfigError(f"unknown version scheme {scheme!r}", "use 'semver' or 'pep440'")


__all__ = ["PRE_LABELS", "SCHEMES", "SemVer", "Version", "parse"]
