"""The changelog document: Keep a Changelog 1.1.0 read into parts that remember their lines.

A :class:`Changelog` is a view over the file's lines (each with its own line
ending). Nothing is normalised: ``str(parse(text)) == text`` for every text
that parses, CRLF, trailing whitespace and odd spacing included. Edits
(:mod:`relkit.changelog.edit`) replace line ranges and parse the result again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from relkit.errors import ChangelogError
from relkit.files import split_lines

# The section names of Keep a Changelog, in its order.
SECTION_ORDER = ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")
UNRELEASED = "Unreleased"

_UNRELEASED = re.compile(r"^##[ \t]+(\[)?unreleased(?(1)\])[ \t]*$", re.IGNORECASE)
_RELEASE = re.compile(
    r"^##[ \t]+(?P<open>\[)?(?P<v>[vV])?(?P<version>\d[0-9A-Za-z.+-]*)(?(open)\])"
    r"(?:\((?P<url>[^()\s]*)\))?"
    r"(?:[ \t]*(?:[-–—][ \t]*(?P<date>[^\s\[\]()]+)|\((?P<pdate>[^()\[\]]*)\)))?"
    r"(?P<yanked>[ \t]*\[YANKED\])?[ \t]*$"
)
_HEADING = re.compile(r"^(#{1,6})(?:[ \t]|$)")
_BULLET = re.compile(r"^ ?[-*+](?:[ \t]|$)")
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")
_LINK_DEF = re.compile(r"^ {0,3}\[(?P<label>[^\]\r\n]+)\]:[ \t]*(?P<url>\S+)[ \t]*$")
_MARKER = re.compile(r"<!--\s*relkit:([0-9a-f]{7,40})\s*-->")
BREAKING = "**BREAKING**"


class ChangelogSyntaxError(ChangelogError):
    """A line relkit cannot place in the changelog's structure."""

    def __init__(self, name: str, line: int, message: str, hint: str) -> None:
        super().__init__(f"{name}:{line}: {message}", hint)
        self.line = line


@dataclass(frozen=True)
class Entry:
    """One bullet with its continuation lines, nested bullets and code blocks."""

    start: int  # index of the bullet line
    end: int  # index after its last line (trailing blank lines excluded)
    lines: tuple[str, ...]  # contents without line endings

    @property
    def text(self) -> str:
        first = re.sub(r"^ ?[-*+][ \t]?", "", self.lines[0], count=1)
        return "\n".join((first, *self.lines[1:]))

    @property
    def breaking(self) -> bool:
        return self.text.lstrip().startswith(BREAKING)

    @property
    def commits(self) -> tuple[str, ...]:
        """Commit shas kept in ``<!-- relkit:SHA -->`` markers."""
        return tuple(_MARKER.findall(self.text))

    @property
    def plain(self) -> str:
        """The text without relkit's markers (what release notes show)."""
        return "\n".join(line.rstrip() for line in _MARKER.sub("", self.text).split("\n")).strip()


@dataclass(frozen=True)
class Section:
    name: str
    line: int  # index of the ``###`` heading
    end: int  # index after its last non-blank content line
    entries: tuple[Entry, ...]
    free_text: tuple[int, ...] = ()  # indexes of lines that are neither entries nor blank


@dataclass(frozen=True)
class Release:
    """``## [Unreleased]`` (``version`` None) or ``## [1.2.0] - 2026-01-31``."""

    line: int
    end: int  # index after its last non-blank content line (link definitions excluded)
    heading: str
    version: str | None
    date: str | None
    yanked: bool
    bracketed: bool
    sections: tuple[Section, ...]
    loose: tuple[Entry, ...] = ()  # entries before any ``###``
    free_text: tuple[int, ...] = ()

    @property
    def label(self) -> str:
        return UNRELEASED if self.version is None else self.version

    @property
    def canonical(self) -> str:
        if self.version is None:
            return f"## [{UNRELEASED}]"
        text = f"## [{self.version}]"
        if self.date:
            text += f" - {self.date}"
        return text + (" [YANKED]" if self.yanked else "")

    @property
    def entries(self) -> tuple[Entry, ...]:
        return self.loose + tuple(e for s in self.sections for e in s.entries)

    def section(self, name: str) -> Section | None:
        for section in self.sections:
            if section.name.lower() == name.lower():
                return section
        return None


@dataclass(frozen=True)
class LinkDef:
    line: int
    label: str
    url: str


@dataclass(frozen=True)
class Changelog:
    lines: tuple[str, ...]  # with their line endings
    releases: tuple[Release, ...]
    links: tuple[LinkDef, ...]
    name: str = "CHANGELOG.md"
    title_line: int | None = None

    def __str__(self) -> str:
        return "".join(self.lines)

    @property
    def newline(self) -> str:
        for line in self.lines:
            if line.endswith("\n"):
                return "\r\n" if line.endswith("\r\n") else "\n"
        return "\n"

    def content(self, index: int) -> str:
        return _content(self.lines[index])

    @property
    def unreleased(self) -> Release | None:
        for release in self.releases:
            if release.version is None:
                return release
        return None

    @property
    def released(self) -> tuple[Release, ...]:
        return tuple(r for r in self.releases if r.version is not None)

    def link(self, label: str) -> LinkDef | None:
        for link in self.links:
            if link.label.lower() == label.lower():
                return link
        return None


def _content(line: str) -> str:
    if line.endswith("\n"):
        line = line[:-1]
        if line.endswith("\r"):
            line = line[:-1]
    return line


def _indented(text: str) -> bool:
    return text.startswith(("  ", "\t"))


def parse_heading(text: str) -> tuple[str | None, str | None, bool, bool] | None:
    """``(version, date, yanked, bracketed)`` of a ``##`` heading, None if unreadable."""
    if _UNRELEASED.match(text):
        return None, None, False, "[" in text
    match = _RELEASE.match(text)
    if match is None:
        return None
    date = match.group("date") or match.group("pdate")
    return (
        match.group("version"),
        date.strip() if date else None,
        match.group("yanked") is not None,
        match.group("open") is not None,
    )


class _Builder:
    """Collects one release's sections and entries while the parser walks the lines."""

    def __init__(self, line: int, heading: str, parsed: tuple[str | None, str | None, bool, bool]):
        self.line = line
        self.heading = heading
        self.parsed = parsed
        self.end = line + 1
        self.sections: list[Section] = []
        self.loose: list[Entry] = []
        self.free: list[int] = []
        self.section: tuple[str, int] | None = None
        self.section_entries: list[Entry] = []
        self.section_free: list[int] = []
        self.section_end = 0

    def close_section(self) -> None:
        if self.section is not None:
            name, line = self.section
            self.sections.append(
                Section(
                    name,
                    line,
                    max(self.section_end, line + 1),
                    tuple(self.section_entries),
                    tuple(self.section_free),
                )
            )
        self.section = None
        self.section_entries = []
        self.section_free = []

    def open_section(self, name: str, line: int) -> None:
        self.close_section()
        self.section = (name, line)
        self.section_end = line + 1
        self.end = line + 1

    def add_entry(self, entry: Entry) -> None:
        (self.section_entries if self.section else self.loose).append(entry)
        self.touch(entry.end)

    def add_free(self, index: int) -> None:
        (self.section_free if self.section else self.free).append(index)
        self.touch(index + 1)

    def touch(self, end: int) -> None:
        self.end = max(self.end, end)
        if self.section is not None:
            self.section_end = max(self.section_end, end)

    def build(self) -> Release:
        self.close_section()
        version, date, yanked, bracketed = self.parsed
        return Release(
            line=self.line,
            end=self.end,
            heading=self.heading,
            version=version,
            date=date,
            yanked=yanked,
            bracketed=bracketed,
            sections=tuple(self.sections),
            loose=tuple(self.loose),
            free_text=tuple(self.free),
        )


def parse(text: str, name: str = "CHANGELOG.md") -> Changelog:
    """Read a changelog; raise :class:`ChangelogSyntaxError` naming the line it cannot place."""
    lines = split_lines(text)
    contents = [_content(line) for line in lines]
    releases: list[Release] = []
    links: list[LinkDef] = []
    title: int | None = None
    current: _Builder | None = None
    entry_start: int | None = None  # the open entry's first line
    entry_last = 0  # index of the open entry's last non-blank line
    fence: tuple[str, int] | None = None  # (marker, opening line index)

    def close_entry() -> None:
        nonlocal entry_start
        if entry_start is not None and current is not None:
            end = entry_last + 1
            current.add_entry(Entry(entry_start, end, tuple(contents[entry_start:end])))
        entry_start = None

    for index, line in enumerate(contents):
        number = index + 1
        if fence is not None:
            marker, _ = fence
            stripped = line.strip()
            if stripped.startswith(marker) and stripped.strip(marker[0]) == "":
                fence = None
            if entry_start is not None:
                entry_last = index
            elif current is not None:
                current.add_free(index)
            continue
        if not line.strip():
            continue
        blank_before = index > 0 and not contents[index - 1].strip()
        fence_match = _FENCE.match(line)
        if fence_match:
            fence = (fence_match.group(1), index)
            if entry_start is not None and (_indented(line) or not blank_before):
                entry_last = index
                continue
            close_entry()
            if current is not None:
                current.add_free(index)
            continue
        heading = _HEADING.match(line)
        if heading:
            close_entry()
            level = len(heading.group(1))
            if level == 1:
                if current is not None or title is not None:
                    raise ChangelogSyntaxError(
                        name,
                        number,
                        f"a second level-1 heading {line!r}",
                        "keep one '# Changelog' title at the top",
                    )
                title = index
                continue
            if level == 2:
                parsed = parse_heading(line)
                if parsed is None:
                    raise ChangelogSyntaxError(
                        name,
                        number,
                        f"cannot read the release heading {line!r}",
                        "write it as '## [1.2.0] - 2026-01-31' or '## [Unreleased]'",
                    )
                if current is not None:
                    releases.append(current.build())
                current = _Builder(index, line, parsed)
                continue
            if level == 3:
                if current is None:
                    raise ChangelogSyntaxError(
                        name,
                        number,
                        f"section {line!r} is not inside a release",
                        "put it under a '## [Unreleased]' or '## [X.Y.Z] - DATE' heading",
                    )
                current.open_section(line[4:].strip().rstrip("#").strip(), index)
                continue
            if current is not None:
                current.add_free(index)
            continue
        link = _LINK_DEF.match(line)
        if link and not _indented(line):
            close_entry()
            links.append(LinkDef(index, link.group("label"), link.group("url")))
            continue
        if _BULLET.match(line):
            close_entry()
            if current is not None:
                entry_start = entry_last = index
            continue
        if entry_start is not None and (_indented(line) or not blank_before):
            entry_last = index
            continue
        close_entry()
        if current is not None:
            current.add_free(index)
    if fence is not None:
        raise ChangelogSyntaxError(
            name,
            fence[1] + 1,
            "this code block is never closed",
            f"close it with {fence[0]} on a line of its own",
        )
    close_entry()
    if current is not None:
        releases.append(current.build())
    return Changelog(tuple(lines), tuple(releases), tuple(links), name, title)
