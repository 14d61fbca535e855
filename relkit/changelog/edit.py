"""Edits of a changelog that touch only their own lines.

Each function takes a parsed :class:`Changelog` and returns the new text. Lines
are inserted with the document's own line ending; nothing else is rewritten.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from relkit.changelog.links import Forge
from relkit.changelog.model import (
    BREAKING,
    SECTION_ORDER,
    UNRELEASED,
    Changelog,
    Release,
    parse,
)
from relkit.errors import ChangelogError

NEW_CHANGELOG = """# Changelog

All notable changes to this project will be documented in this file.

The format is based on [Keep a Changelog](https://keepachangelog.com/en/1.1.0/),
and this project adheres to [Semantic Versioning](https://semver.org/spec/v2.0.0.html).

## [Unreleased]
"""

Splice = tuple[int, int, list[str]]  # replace lines[start:end] with these contents


class _Lines:
    """The document's lines, edited by splices applied bottom-up."""

    def __init__(self, doc: Changelog) -> None:
        self.doc = doc
        self.lines = list(doc.lines)
        self.newline = doc.newline
        self.splices: list[Splice] = []

    def blank(self, index: int) -> bool:
        return 0 <= index < len(self.lines) and not self.lines[index].strip()

    def replace(self, start: int, end: int, contents: list[str]) -> None:
        self.splices.append((start, end, contents))

    def insert(self, pos: int, contents: list[str], spaced: bool = True) -> None:
        """Insert *contents* before line *pos*; *spaced* keeps a blank line around the block."""
        block = list(contents)
        if spaced:
            if pos > 0 and not self.blank(pos - 1):
                block.insert(0, "")
            if pos < len(self.lines) and not self.blank(pos):
                block.append("")
        self.splices.append((pos, pos, block))

    def text(self) -> str:
        lines = self.lines
        order = sorted(enumerate(self.splices), key=lambda item: (item[1][0], item[0]))
        for _, (start, end, contents) in reversed(order):
            if start > 0 and not lines[start - 1].endswith("\n"):
                lines[start - 1] += self.newline
            new = [content + self.newline for content in contents]
            lines[start:end] = new
        return "".join(lines)


def entry_lines(text: str) -> list[str]:
    """A bullet for *text*: ``- first line``, continuation lines indented by two spaces."""
    first, *rest = text.strip("\n").split("\n")
    return [f"- {first}", *(f"  {line}" if line.strip() else "" for line in rest)]


def ensure_unreleased(doc: Changelog) -> Changelog:
    """The document with an Unreleased section (added above the first release if missing)."""
    if doc.unreleased is not None:
        return doc
    edit = _Lines(doc)
    if doc.releases:
        edit.insert(doc.releases[0].line, [f"## [{UNRELEASED}]"])
    else:
        edit.insert(len(doc.lines), [f"## [{UNRELEASED}]"])
    return parse(edit.text(), doc.name)


def _rank(name: str) -> int:
    for index, known in enumerate(SECTION_ORDER):
        if known.lower() == name.lower():
            return index
    return len(SECTION_ORDER)


def add_to_section(doc: Changelog, release: Release, name: str, items: Sequence[str]) -> str:
    """Add entries (markdown texts) to *name* of *release*: breaking ones first, others last."""
    edit = _Lines(doc)
    breaking = [line for item in items if item.startswith(BREAKING) for line in entry_lines(item)]
    others = [line for item in items if not item.startswith(BREAKING) for line in entry_lines(item)]
    section = release.section(name)
    if section is None:
        block = [f"### {name}", "", *breaking, *others]
        later = [s for s in release.sections if _rank(s.name) > _rank(name)]
        if later:
            edit.insert(later[0].line, block)
        else:
            edit.insert(release.end, block)
        return edit.text()
    entries = section.entries
    if not entries:
        edit.insert(section.end, breaking + others)
        return edit.text()
    if breaking:
        first_plain = next((e for e in entries if not e.breaking), None)
        if first_plain is None:
            edit.insert(entries[-1].end, breaking, spaced=False)
        else:
            edit.insert(first_plain.start, breaking, spaced=False)
    if others:
        edit.insert(entries[-1].end, others, spaced=False)
    return edit.text()


def add_entries(doc: Changelog, additions: dict[str, list[str]]) -> str:
    """Add entries under Unreleased (created if missing), one ``###`` section at a time."""
    doc = ensure_unreleased(doc)
    for name in sorted(additions, key=_rank):
        items = additions[name]
        if not items:
            continue
        unreleased = doc.unreleased
        assert unreleased is not None
        doc = parse(add_to_section(doc, unreleased, name, items), doc.name)
    return str(doc)


def is_empty(release: Release | None) -> bool:
    return release is None or not release.entries


def release_unreleased(
    doc: Changelog,
    version: str,
    date: str,
    *,
    forge: Forge | None,
    tag_for: Callable[[str], str],
    allow_empty: bool = False,
    previous_tag: str | None = None,
) -> str:
    """Unreleased becomes ``## [version] - date`` under a fresh empty Unreleased; links follow."""
    unreleased = doc.unreleased
    if is_empty(unreleased) and not allow_empty:
        raise ChangelogError(
            f"{doc.name}: Unreleased has no entries to release as {version}",
            "add some (relkit changelog add/generate), or pass --allow-empty-changelog",
        )
    if any(r.version == version for r in doc.released):
        raise ChangelogError(
            f"{doc.name}: version {version} is already in the changelog",
            "choose another version",
        )
    doc = ensure_unreleased(doc)
    unreleased = doc.unreleased
    assert unreleased is not None
    edit = _Lines(doc)
    heading = doc.content(unreleased.line)
    edit.replace(unreleased.line, unreleased.line + 1, [heading, "", f"## [{version}] - {date}"])
    if forge is not None:
        _release_links(doc, edit, version, forge, tag_for, previous_tag)
    return edit.text()


def _previous(doc: Changelog) -> str | None:
    released = doc.released
    return released[0].version if released else None


def _release_links(
    doc: Changelog,
    edit: _Lines,
    version: str,
    forge: Forge,
    tag_for: Callable[[str], str],
    previous_tag: str | None,
) -> None:
    previous = _previous(doc)
    old_tag = tag_for(previous) if previous else previous_tag
    new_tag = tag_for(version)
    version_url = forge.compare(old_tag, new_tag) if old_tag else forge.first(new_tag)
    unreleased_url = forge.head(new_tag)
    link = doc.link(UNRELEASED)
    if link is not None:
        label = doc.content(link.line).split("]", 1)[0] + "]"
        edit.replace(
            link.line, link.line + 1, [f"{label}: {unreleased_url}", f"[{version}]: {version_url}"]
        )
        return
    uses_links = bool(doc.links) or any(r.bracketed for r in doc.releases)
    if not uses_links:
        return
    labels = {r.label.lower() for r in doc.releases}
    release_links = [link for link in doc.links if link.label.lower() in labels]
    block = [f"[{UNRELEASED}]: {unreleased_url}", f"[{version}]: {version_url}"]
    if release_links:
        edit.insert(release_links[0].line, block, spaced=False)
    else:
        edit.insert(len(doc.lines), block)


def insert_blocks(
    doc: Changelog, blocks: Sequence[tuple[str, list[str]]], order: Callable[[str], Any]
) -> str:
    """Put release *blocks* (``(label, lines)``) in the document, by version order.

    A block whose label is already a release replaces that release's lines;
    the others go above the first release that is older.
    """
    return _insert_blocks(doc, blocks, order)[1].text()


def _insert_blocks(
    doc: Changelog, blocks: Sequence[tuple[str, list[str]]], order: Callable[[str], Any]
) -> tuple[Changelog, _Lines, bool]:
    """The document (with Unreleased), its edit, and whether a block replaced a release."""
    doc = ensure_unreleased(doc)
    edit = _Lines(doc)
    released = doc.released
    by_label = {r.label: r for r in released}
    inserts: dict[int, list[str]] = {}
    replaced = False
    for label, block in blocks:
        existing = by_label.get(label)
        if existing is not None:
            edit.replace(existing.line, existing.end, block)
            replaced = True
            continue
        older = [r for r in released if order(r.label) < order(label)]
        pos = older[0].line if older else doc.releases[-1].end
        if pos in inserts:
            inserts[pos] += ["", *block]
        else:
            inserts[pos] = list(block)
    for pos, lines in inserts.items():
        edit.insert(pos, lines)
    return doc, edit, replaced


def add_missing_links(doc: Changelog, forge: Forge, tag_for: Callable[[str], str]) -> str:
    """Link definitions for Unreleased and every release that has none, after the others."""
    edit = _missing_links(doc, forge, tag_for)
    return str(doc) if edit is None else edit.text()


def _missing_links(doc: Changelog, forge: Forge, tag_for: Callable[[str], str]) -> _Lines | None:
    released = doc.released
    linked = {link.label.lower() for link in doc.links}
    block = []
    if doc.unreleased is not None and UNRELEASED.lower() not in linked:
        latest = released[0].version if released else None
        block.append(f"[{UNRELEASED}]: {forge.head(tag_for(latest) if latest else None)}")
    for index, release in enumerate(released):
        if release.label.lower() in linked:
            continue
        assert release.version is not None
        tag = tag_for(release.version)
        older = released[index + 1].version if index + 1 < len(released) else None
        url = forge.compare(tag_for(older), tag) if older else forge.first(tag)
        block.append(f"[{release.label}]: {url}")
    if not block:
        return None
    edit = _Lines(doc)
    if doc.links:
        edit.insert(doc.links[-1].line + 1, block, spaced=False)
    else:
        edit.insert(len(doc.lines), block)
    return edit
