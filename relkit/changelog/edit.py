"""Edits of a changelog that touch only their own lines.

Each function takes a parsed :class:`Changelog` and returns the new text. Lines
are inserted with the document's own line ending; nothing else is rewritten.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from relkit.changelog.links import Forge
from relkit.changelog.model import (
    _FENCE,
    BREAKING,
    SECTION_ORDER,
    UNRELEASED,
    Changelog,
    LinkDef,
    Release,
    parse,
    parse_heading,
    split_lines,
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


_FENCE_LINE = re.compile(_FENCE.pattern, re.MULTILINE)


def insert_blocks_outline(
    doc: Changelog, blocks: Sequence[tuple[str, list[str]]], order: Callable[[str], Any]
) -> tuple[str, Changelog | None]:
    """``insert_blocks``, and the outline of what ``parse`` would make of its text, if certain.

    Parsing a generated history costs more than generating it. The outline is
    given when it is certain without parsing: Unreleased is the first release,
    every block is new (none replaces a release), and no block line opens a
    code block, so each block reads back as one release and the document's
    other lines keep their meaning, only moved down. The outline has the new
    lines, the link definitions, Unreleased as parsed, and every other release
    with its heading line, version and date, but no sections (and a stale
    ``end``): enough for :func:`add_entries_and_links`, which is given the way
    to the full parse for anything else. Otherwise the outline is None.
    """
    base, edit, replaced = _insert_blocks(doc, blocks, order)
    text = edit.text() if edit.splices else str(base)
    unreleased = base.unreleased
    if replaced or not edit.splices or unreleased is None or base.releases[0] is not unreleased:
        return text, None
    if any(_FENCE_LINE.search("\n".join(block)) for _, block in blocks):
        return text, None
    inserted = sorted(edit.splices, key=lambda splice: splice[0])  # as text() applies them
    starts: list[int] = []
    above = [0]  # above[k]: lines inserted by the first k splices
    added: list[Release] = []
    for pos, _, contents in inserted:
        if pos <= unreleased.line:
            return text, None
        for offset, line in enumerate(contents):
            if line.startswith("## "):  # a block's heading (entries are indented or bullets)
                parsed = parse_heading(line)
                if parsed is None or parsed[0] is None:
                    return text, None
                version, date, yanked, bracketed = parsed
                at = pos + above[-1] + offset
                added.append(Release(at, at + 1, line, version, date, yanked, bracketed, ()))
        starts.append(pos)
        above.append(above[-1] + len(contents))

    def moved(index: int) -> int:  # where a line of the document went
        return index + above[bisect_right(starts, index)]

    releases = [unreleased]
    for release in base.releases[1:]:
        releases.append(replace(release, line=moved(release.line)))
    releases.extend(added)
    releases.sort(key=lambda release: release.line)
    links = tuple(LinkDef(moved(link.line), link.label, link.url) for link in base.links)
    outline = Changelog(
        tuple(split_lines(text)), tuple(releases), links, base.name, base.title_line
    )
    return text, outline


def add_missing_links(doc: Changelog, forge: Forge, tag_for: Callable[[str], str]) -> str:
    """Link definitions for Unreleased and every release that has none, after the others."""
    edit = _missing_links(doc, forge, tag_for)
    return str(doc) if edit is None else edit.text()


def _missing_links(doc: Changelog, forge: Forge, tag_for: Callable[[str], str]) -> _Lines | None:
    released = doc.released
    block = []
    if doc.unreleased is not None and doc.link(UNRELEASED) is None:
        latest = released[0].version if released else None
        block.append(f"[{UNRELEASED}]: {forge.head(tag_for(latest) if latest else None)}")
    for index, release in enumerate(released):
        if doc.link(release.label) is not None:
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


def add_entries_and_links(
    doc: Changelog,
    additions: dict[str, list[str]],
    forge: Forge | None,
    tag_for: Callable[[str], str],
    *,
    full: Callable[[], Changelog] | None = None,
) -> str:
    """``add_entries`` under Unreleased, then ``add_missing_links`` (with a forge) on the result.

    The same text, without parsing the whole document again after each
    ``###`` section and once more for the links (a generated history is tens of
    thousands of lines): the entries are added to the lines down to the heading
    of the release after Unreleased (a document of its own that parses to the
    same Unreleased), and the links go below that heading, where the entries do
    not reach. Whenever that cannot be shown to give the same text (Unreleased
    last, an entry that opens a code block, links above the next release), the
    whole document is edited and parsed as before.

    *doc* may be an outline (see :func:`insert_blocks_outline`); *full* then
    gives the parsed document, for the whole-document path.
    """
    fast = _window_edit(doc, additions, forge, tag_for) if additions else None
    if fast is not None:
        return fast
    if additions and full is not None:
        doc = full()
    text = add_entries(doc, additions) if additions else str(doc)
    if forge is None:
        return text
    return add_missing_links(parse(text, doc.name) if additions else doc, forge, tag_for)


def _window_edit(
    doc: Changelog,
    additions: dict[str, list[str]],
    forge: Forge | None,
    tag_for: Callable[[str], str],
) -> str | None:
    unreleased = doc.unreleased
    if unreleased is None:
        return None
    following = [r for r in doc.releases if r.line > unreleased.line]
    if not following:
        return None
    stop = following[0].line  # the next release's heading: the window's last line
    if not doc.lines[stop].endswith("\n"):
        return None
    head_lines = doc.lines[: stop + 1]
    prefix = "".join(head_lines)
    try:
        head = parse(prefix, doc.name)
        new_head = add_entries(head, additions)
        after = parse(new_head, doc.name)
    except ChangelogError:
        return None
    # The window's last line must still be a release heading, closing what came
    # before it (no code block left open), with no link definition added.
    last = after.releases[-1] if after.releases else None
    if (
        last is None
        or last.line != len(after.lines) - 1
        or last.heading != doc.content(stop)
        or len(after.releases) != len(head.releases)
        or len(after.links) != len(head.links)
    ):
        return None
    tail = "".join(doc.lines[stop + 1 :])
    if forge is None:
        return new_head + tail
    links = _missing_links(doc, forge, tag_for)
    if links is None:
        return new_head + tail
    if any(start <= stop for start, _, _ in links.splices):
        return None
    linked = links.text()
    assert linked.startswith(prefix)
    return new_head + linked[len(prefix) :]
