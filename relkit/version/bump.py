"""Bump rules (documented in ``relkit bump --help`` and docs/versioning.md).

major/minor/patch follow node-semver's ``inc``: a pre-release of the version
the part would produce is finished instead of skipped (``bump patch`` on
1.4.0-rc.2 gives 1.4.0, ``bump minor`` on 1.4.1-rc.1 gives 1.5.0). With a
pre-release label (``--pre``) they always start a new pre-release of the next
version (node's premajor/preminor/prepatch): ``bump minor --pre rc`` on 1.3.2
gives 1.4.0-rc.1.
"""

from __future__ import annotations

from relkit.errors import UsageError, VersionError
from relkit.version.base import PRE_LABELS, Version

PARTS = ("major", "minor", "patch", "pre", "release")


def _label_rank(label: str, version: Version) -> int:
    if label not in PRE_LABELS:
        raise VersionError(
            f"pre-release label {label!r} of {version} is not one of {', '.join(PRE_LABELS)}",
            "give the next version explicitly with --to",
        )
    return PRE_LABELS.index(label)


def bump(version: Version, part: str, pre: str | None = None) -> Version:
    """The version after bumping *part*, optionally as a pre-release *pre*."""
    if pre is not None and pre not in PRE_LABELS:
        raise UsageError(
            f"unknown pre-release label {pre!r}", f"use one of {', '.join(PRE_LABELS)}"
        )
    major, minor, patch = version.release
    if part == "pre":
        return _bump_pre(version, pre)
    if part == "release":
        if not version.is_prerelease:
            raise VersionError(
                f"{version} is already a final release",
                "'bump release' finishes a pre-release; use 'bump patch', 'minor' or 'major'",
            )
        return version.with_parts(version.release, None)
    if part not in ("major", "minor", "patch"):
        raise UsageError(f"unknown part {part!r}", f"use one of {', '.join(PARTS)}, auto or --to")
    if pre is not None:
        release = {
            "major": (major + 1, 0, 0),
            "minor": (major, minor + 1, 0),
            "patch": (major, minor, patch + 1),
        }[part]
        return version.with_parts(release, (pre, 1))
    if version.is_prerelease:
        finishes = {
            "major": minor == 0 and patch == 0,
            "minor": patch == 0,
            "patch": True,
        }[part]
        if finishes:
            return version.with_parts(version.release, None)
    release = {
        "major": (major + 1, 0, 0),
        "minor": (major, minor + 1, 0),
        "patch": (major, minor, patch + 1),
    }[part]
    return version.with_parts(release, None)


def _bump_pre(version: Version, label: str | None) -> Version:
    current = version.pre
    if current is None:
        example = version.with_parts(
            (version.major, version.minor, version.patch + 1), (label or "rc", 1)
        )
        raise VersionError(
            f"{version} is a final release, so it has no pre-release to bump",
            f"start one with 'relkit bump patch --pre {label or 'rc'}' (→ {example}),"
            " or minor/major with --pre",
        )
    cur_label, number = current
    if label is None or label == cur_label:
        return version.with_parts(version.release, (cur_label, number + 1))
    if _label_rank(label, version) < _label_rank(cur_label, version):
        raise VersionError(
            f"cannot go back from {cur_label} to {label} ({version})",
            f"pre-releases advance {' → '.join(PRE_LABELS)}",
        )
    return version.with_parts(version.release, (label, 1))


def bump_to(current: Version, target: Version) -> Version:
    """Check that an explicit target moves forward."""
    if not target > current:
        raise VersionError(
            f"{target} is not greater than the current version {current}",
            "--to takes a version above the current one",
        )
    return target
