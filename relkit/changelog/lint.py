"""``relkit changelog check``: findings about a parsed changelog, each with its line."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date as Date

from relkit.changelog.links import Forge, compare_range
from relkit.changelog.model import SECTION_ORDER, UNRELEASED, Changelog, Release
from relkit.errors import VersionError
from relkit.version import Version, parse

EXTRA_SECTIONS = ("Upgrading",)  # relkit's own: upgrade instructions for release notes
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, order=True)
class Finding:
    line: int
    message: str


def lint(
    doc: Changelog,
    scheme: str,
    *,
    tag_for: Callable[[str], str],
    forge: Forge | None = None,
    strict: bool = False,
) -> list[Finding]:
    findings: list[Finding] = []
    add = findings.append
    _structure(doc, add, strict)
    _versions(doc, scheme, add)
    _links(doc, scheme, tag_for, add)
    if strict:
        unreleased = doc.unreleased
        if unreleased is not None and not unreleased.entries:
            add(Finding(unreleased.line + 1, "Unreleased is empty: nothing to release"))
    return sorted(set(findings))


def _structure(doc: Changelog, add: Callable[[Finding], None], strict: bool) -> None:
    if doc.title_line is None:
        add(Finding(1, "no '# Changelog' title at the top"))
    unreleased = [r for r in doc.releases if r.version is None]
    if not unreleased:
        where = doc.releases[0].line + 1 if doc.releases else 1
        add(Finding(where, "no '## [Unreleased]' section; add it above the first release"))
    elif doc.releases[0].version is not None:
        add(Finding(unreleased[0].line + 1, "Unreleased must be the first section"))
    for extra in unreleased[1:]:
        add(
            Finding(
                extra.line + 1,
                f"a second Unreleased section (first on line {unreleased[0].line + 1})",
            )
        )
    known = [name.lower() for name in (*SECTION_ORDER, *EXTRA_SECTIONS)]
    for release in doc.releases:
        if release.heading != release.canonical:
            add(
                Finding(
                    release.line + 1,
                    f"heading {release.heading!r} is not in the canonical"
                    f" form {release.canonical!r}",
                )
            )
        for entry in release.loose:
            add(Finding(entry.start + 1, "entry outside a ### section (Added, Changed, …)"))
        seen: dict[str, int] = {}
        ranks = []
        for section in release.sections:
            name = section.name.lower()
            if name not in known:
                add(
                    Finding(
                        section.line + 1,
                        f"unknown section {section.name!r}; Keep a"
                        f" Changelog uses {', '.join(SECTION_ORDER)}",
                    )
                )
            elif section.name not in (*SECTION_ORDER, *EXTRA_SECTIONS):
                canonical = next(k for k in (*SECTION_ORDER, *EXTRA_SECTIONS) if k.lower() == name)
                add(Finding(section.line + 1, f"write the section as '### {canonical}'"))
            if name in seen:
                add(
                    Finding(
                        section.line + 1,
                        f"section {section.name!r} appears twice in"
                        f" {release.label} (first on line {seen[name]})",
                    )
                )
            seen.setdefault(name, section.line + 1)
            if not section.entries and not section.free_text:
                add(Finding(section.line + 1, f"section {section.name!r} is empty"))
            if name in known[: len(SECTION_ORDER)]:
                ranks.append((known.index(name), section))
        if strict:
            for (rank, section), (before, _) in zip(ranks[1:], ranks, strict=False):
                if rank < before:
                    add(
                        Finding(
                            section.line + 1,
                            f"section {section.name!r} is out of Keep a"
                            f" Changelog's order ({', '.join(SECTION_ORDER)})",
                        )
                    )


def _versions(doc: Changelog, scheme: str, add: Callable[[Finding], None]) -> None:
    previous: tuple[Release, Version] | None = None
    first_line: dict[object, int] = {}
    for release in doc.released:
        assert release.version is not None
        line = release.line + 1
        if release.date is None:
            add(Finding(line, f"release {release.version} has no date (YYYY-MM-DD)"))
        elif not _valid_date(release.date):
            add(Finding(line, f"date {release.date!r} is not an ISO 8601 date (YYYY-MM-DD)"))
        try:
            version = parse(release.version, scheme)
        except VersionError:
            add(Finding(line, f"{release.version!r} is not a {scheme} version"))
            key: object = release.version
            version = None
        else:
            key = version
        if key in first_line:
            add(
                Finding(
                    line,
                    f"version {release.version} appears twice (first on line {first_line[key]})",
                )
            )
            continue
        first_line[key] = line
        if version is None:
            continue
        if previous is not None and not version < previous[1]:
            add(
                Finding(
                    line,
                    f"{release.version} is listed below {previous[0].version}:"
                    " releases go newest first",
                )
            )
        previous = (release, version)


def _valid_date(text: str) -> bool:
    if not _ISO.match(text):
        return False
    try:
        Date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _links(
    doc: Changelog, scheme: str, tag_for: Callable[[str], str], add: Callable[[Finding], None]
) -> None:
    link_lines = {link.line for link in doc.links}
    body = "".join(line for index, line in enumerate(doc.lines) if index not in link_lines).lower()
    labels = {r.label.lower() for r in doc.releases}
    for release in doc.releases:
        if release.bracketed and doc.link(release.label) is None:
            add(Finding(release.line + 1, f"no link definition for [{release.label}]"))
    seen: dict[str, int] = {}
    for link in doc.links:
        label = link.label.lower()
        if label in seen:
            add(
                Finding(
                    link.line + 1,
                    f"link [{link.label}] is defined twice (first on line {seen[label]})",
                )
            )
            continue
        seen[label] = link.line + 1
        used = f"[{label}]" in body
        if not used:
            add(Finding(link.line + 1, f"link [{link.label}] is not used"))
            continue
        if label in labels:
            expected = _expected_range(doc, scheme, label, tag_for)
            found = compare_range(link.url)
            if found is not None and expected is not None and not _agrees(found, expected):
                add(
                    Finding(
                        link.line + 1,
                        f"link [{link.label}] compares {found[0]}...{found[1]};"
                        f" expected {expected[0] or '…'}...{expected[1]}",
                    )
                )


def _expected_range(
    doc: Changelog, scheme: str, label: str, tag_for: Callable[[str], str]
) -> tuple[str | None, str] | None:
    """The compare range of *label*: from the highest lower version (by scheme) to it."""
    versions: list[tuple[Version, str]] = []
    for release in doc.released:
        assert release.version is not None
        try:
            versions.append((parse(release.version, scheme), release.version))
        except VersionError:
            continue
    if label == UNRELEASED.lower():
        older = max(versions, key=lambda item: item[0], default=None)
        return (tag_for(older[1]) if older else None, "HEAD")
    mine = next((item for item in versions if item[1].lower() == label), None)
    if mine is None:
        return None
    lower = [item for item in versions if item[0] < mine[0]]
    older = max(lower, key=lambda item: item[0], default=None)
    return (tag_for(older[1]) if older else None, tag_for(mine[1]))


def _agrees(found: tuple[str, str], expected: tuple[str | None, str]) -> bool:
    old, new = expected
    if new == "HEAD":
        return (old is None or found[0] == old) and found[1] in ("HEAD", "main", "master")
    return found[1] == new and (old is None or found[0] == old)


__all__ = ["UNRELEASED", "Finding", "lint"]
