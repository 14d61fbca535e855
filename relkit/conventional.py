"""Conventional Commits 1.0.0: parse a commit message, tell what it releases."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_HEADER = re.compile(
    r"^(?P<type>[A-Za-z][\w-]*)(?:\((?P<scope>[^()\r\n]*)\))?(?P<bang>!)?:[ \t]+(?P<desc>\S.*)$"
)
_FOOTER = re.compile(
    r"^(?P<token>BREAKING[ -]CHANGE|[A-Za-z][\w-]*)(?::[ \t]|[ \t]#)(?P<value>.*)$"
)

MAJOR, MINOR, PATCH = "major", "minor", "patch"
_RANK = {None: 0, PATCH: 1, MINOR: 2, MAJOR: 3}


@dataclass(frozen=True)
class ConventionalCommit:
    type: str
    scope: str | None
    description: str
    breaking: bool
    body: str = ""
    footers: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    sha: str = ""

    @property
    def breaking_note(self) -> str | None:
        for token, value in self.footers:
            if token in ("BREAKING CHANGE", "BREAKING-CHANGE"):
                return value
        return None

    def footer(self, token: str) -> str | None:
        for key, value in self.footers:
            if key.lower() == token.lower():
                return value
        return None


def parse_message(message: str, sha: str = "") -> ConventionalCommit | None:
    """The conventional commit in *message*, or None when it is not one."""
    lines = message.strip("\n").replace("\r\n", "\n").split("\n")
    match = _HEADER.match(lines[0].strip())
    if match is None:
        return None
    rest = lines[1:]
    footers: list[tuple[str, str]] = []
    # Footers are the trailing paragraph whose first line is a footer.
    paragraphs = "\n".join(rest).strip("\n").split("\n\n")
    body_paragraphs = paragraphs
    if paragraphs and paragraphs[-1] and _FOOTER.match(paragraphs[-1].split("\n")[0]):
        body_paragraphs = paragraphs[:-1]
        for line in paragraphs[-1].split("\n"):
            footer = _FOOTER.match(line)
            if footer:
                footers.append((footer.group("token"), footer.group("value").strip()))
            elif footers:
                token, value = footers[-1]
                footers[-1] = (token, f"{value}\n{line}".strip())
    breaking = match.group("bang") is not None or any(
        token in ("BREAKING CHANGE", "BREAKING-CHANGE") for token, _ in footers
    )
    return ConventionalCommit(
        type=match.group("type").lower(),
        scope=match.group("scope") or None,
        description=match.group("desc").strip(),
        breaking=breaking,
        body="\n\n".join(body_paragraphs).strip("\n"),
        footers=tuple(footers),
        sha=sha,
    )


def release_part(commit: ConventionalCommit) -> str | None:
    """What this commit alone releases: major, minor, patch or nothing."""
    if commit.breaking:
        return MAJOR
    if commit.type == "feat":
        return MINOR
    if commit.type in ("fix", "perf"):
        return PATCH
    return None


def next_part(messages: Iterable[str], zero_major: bool = False) -> tuple[str | None, int, int]:
    """The highest part released by *messages*, with counts (conventional, skipped).

    On 0.x (``zero_major``) a breaking change bumps minor, as SemVer's
    initial-development rule allows.
    """
    best: str | None = None
    conventional = skipped = 0
    for message in messages:
        commit = parse_message(message)
        if commit is None:
            skipped += 1
            continue
        conventional += 1
        part = release_part(commit)
        if _RANK[part] > _RANK[best]:
            best = part
    if best == MAJOR and zero_major:
        best = MINOR
    return best, conventional, skipped
