"""Release notes of one version, from its changelog section."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from relkit.changelog.model import BREAKING, Changelog, Entry, Release
from relkit.errors import ChangelogError, VersionError
from relkit.version import parse

UPGRADING = "upgrading"


@dataclass(frozen=True)
class NotesSection:
    name: str
    entries: list[str]


@dataclass(frozen=True)
class ReleaseNotes:
    version: str
    date: str | None
    yanked: bool
    breaking: list[str]  # entries marked **BREAKING**, from every section
    upgrading: str  # the "### Upgrading" text, "" when there is none
    sections: list[NotesSection]  # the other entries, in the changelog's order
    link: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def find_release(doc: Changelog, version: str, scheme: str) -> Release:
    try:
        wanted: object = parse(version.lstrip("vV"), scheme)
    except VersionError:
        wanted = None
    for release in doc.released:
        assert release.version is not None
        if release.version == version:
            return release
        try:
            if wanted is not None and parse(release.version, scheme) == wanted:
                return release
        except VersionError:
            continue
    raise ChangelogError(
        f"{doc.name} has no section for {version}",
        "release it first (relkit bump), or name a version that is in the changelog",
    )


def _text(entry: Entry) -> str:
    return entry.plain


def notes_for(doc: Changelog, version: str, scheme: str) -> ReleaseNotes:
    release = find_release(doc, version, scheme)
    breaking = [_text(e).removeprefix(BREAKING).lstrip() for e in release.entries if e.breaking]
    sections = []
    upgrading = ""
    for section in release.sections:
        if section.name.lower() == UPGRADING:
            lines = [doc.content(i) for i in range(section.line + 1, section.end)]
            upgrading = "\n".join(lines).strip("\n")
            continue
        entries = [_text(e) for e in section.entries if not e.breaking]
        if entries:
            sections.append(NotesSection(section.name, entries))
    if release.loose:
        loose = [_text(e) for e in release.loose if not e.breaking]
        if loose:
            sections.insert(0, NotesSection("Changes", loose))
    link = doc.link(release.label)
    return ReleaseNotes(
        version=release.label,
        date=release.date,
        yanked=release.yanked,
        breaking=breaking,
        upgrading=upgrading,
        sections=sections,
        link=link.url if link else None,
    )


def _bullet(text: str) -> str:
    return f"- {text}"


def render_markdown(notes: ReleaseNotes, template: Path | None = None) -> str:
    from relkit import templating

    context = notes.as_dict()
    filters = {"bullet": _bullet}
    if template is not None:
        text = templating.render_user(template, context, filters)
    else:
        text = templating.render("release-notes.md.j2", context, filters)
    return text.rstrip("\n") + "\n"


def render_json(notes: ReleaseNotes) -> str:
    return json.dumps(notes.as_dict(), indent=2)
