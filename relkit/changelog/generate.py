"""Changelog entries from Conventional Commits.

Mapping: feat → Added, fix → Fixed, perf/refactor → Changed, revert → Removed,
a ``deprecate``/``deprecation`` type or a ``Deprecated:`` footer → Deprecated,
a ``security`` scope or a ``Security:`` footer → Security (these two win over
the type). A breaking change (``type!`` or a ``BREAKING CHANGE:`` footer) is
marked ``**BREAKING**`` and listed first in its section; a breaking change of
another type (``chore!``) goes to Changed. Other types are not listed.

Each entry ends with ``<!-- relkit:SHA12 -->``. A commit is not proposed again
when its sha is in such a marker anywhere in the changelog, or when Unreleased
already holds an entry with the same text (markers and spacing ignored).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from relkit.changelog.model import BREAKING, SECTION_ORDER, Changelog, Release
from relkit.conventional import parse_message

if TYPE_CHECKING:
    pass

_TYPES = {
    "feat": "Added",
    "fix": "Fixed",
    "perf": "Changed",
    "refactor": "Changed",
    "revert": "Removed",
    "deprecate": "Deprecated",
    "deprecation": "Deprecated",
}
_HEADER = re.compile(r"([A-Za-z][\w-]*)(?:\(([^()\r\n]*)\))?(!)?:[ \t]+(\S.*)$")
_DEPRECATED_FOOTERS = ("deprecated", "deprecation", "deprecates")
SHA_LENGTH = 12


@dataclass
class Tally:
    """What happened to each commit: listed, not a changelog type, or not conventional."""

    listed: int = 0
    unlisted: int = 0
    skipped: int = 0
    duplicates: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "listed": self.listed,
            "unlisted": self.unlisted,
            "not_conventional": self.skipped,
            "already_present": self.duplicates,
        }


@dataclass
class Proposals:
    """Entries per section, in history order (oldest first)."""

    sections: dict[str, list[str]] = field(default_factory=dict)

    def add(self, section: str, text: str) -> None:
        self.sections.setdefault(section, []).append(text)

    def __len__(self) -> int:
        return sum(len(items) for items in self.sections.values())


UNLISTED = "unlisted"
NOT_CONVENTIONAL = "not conventional"


def entry_for(sha: str, message: str) -> tuple[str, str] | str:
    """``(section, entry text)`` of a commit, or why it has none (UNLISTED, NOT_CONVENTIONAL)."""
    first = message.split("\n", 1)[0].strip()
    head = _HEADER.match(first)
    if head is None:
        return NOT_CONVENTIONAL
    if "BREAKING" not in message and "ecurity" not in message and "eprecat" not in message:
        # The fast path: no footer can change the section (most commits).
        kind = head.group(1).lower()
        scope = head.group(2) or None
        bang = head.group(3) is not None
        if scope is not None and scope.lower() == "security":
            section: str | None = "Security"
        else:
            section = _TYPES.get(kind) or ("Changed" if bang else None)
        if section is None:
            return UNLISTED
        return section, _entry_text(sha, scope, head.group(4).strip(), bang, None)
    commit = parse_message(message, sha)
    if commit is None:  # pragma: no cover - the header matched above
        return NOT_CONVENTIONAL
    if (commit.scope or "").lower() == "security" or commit.footer("Security") is not None:
        section = "Security"
    elif commit.type in ("deprecate", "deprecation") or any(
        commit.footer(token) is not None for token in _DEPRECATED_FOOTERS
    ):
        section = "Deprecated"
    elif commit.type in _TYPES:
        section = _TYPES[commit.type]
    elif commit.breaking:
        section = "Changed"
    else:
        return UNLISTED
    return section, _entry_text(
        sha, commit.scope, commit.description, commit.breaking, commit.breaking_note
    )


def _entry_text(
    sha: str, scope: str | None, description: str, breaking: bool, note: str | None
) -> str:
    text = f"**{scope}:** {description}" if scope else description
    if breaking:
        text = f"{BREAKING} {text}"
    text += f" <!-- relkit:{sha[:SHA_LENGTH]} -->"
    if note and note.strip() != description:
        text += "\n" + note.strip()
    return text


def normalise(text: str) -> str:
    return " ".join(re.sub(r"<!--\s*relkit:[0-9a-f]+\s*-->", "", text).split()).lower()


class Seen:
    """Commits and texts already in the changelog (the dedup rule)."""

    def __init__(self, doc: Changelog | None) -> None:
        self.shas: set[str] = set()
        self.lengths: set[int] = set()
        self.texts: set[str] = set()
        if doc is None:
            return
        for release in doc.releases:
            for entry in release.entries:
                for sha in entry.commits:
                    self.shas.add(sha)
                    self.lengths.add(len(sha))
        if doc.unreleased is not None:
            self.texts = {normalise(entry.text) for entry in doc.unreleased.entries}

    def has(self, sha: str, text: str) -> bool:
        return self.has_commit(sha) or normalise(text) in self.texts

    def has_commit(self, sha: str) -> bool:
        return any(sha[:length] in self.shas for length in self.lengths)


def propose(commits: Iterable[tuple[str, str]], seen: Seen, tally: Tally) -> Proposals:
    """Entries for ``(sha, message)`` pairs given newest first; duplicates left out."""
    found = Proposals()
    for sha, message in commits:
        result = entry_for(sha, message)
        if result == NOT_CONVENTIONAL:
            tally.skipped += 1
        elif isinstance(result, str):
            tally.unlisted += 1
        elif seen.has(sha, result[1]):
            tally.duplicates += 1
        else:
            tally.listed += 1
            found.add(*result)
    for items in found.sections.values():
        items.reverse()
    return found


def is_generated(release: Release) -> bool:
    """True when every entry of *release* carries a relkit marker and there is no free text."""
    if release.free_text or any(s.free_text for s in release.sections):
        return False
    return all(entry.commits for entry in release.entries)


def release_block(heading: str, proposals: Proposals) -> list[str]:
    from relkit.changelog.edit import entry_lines

    block = [heading]
    for name in SECTION_ORDER:
        items = proposals.sections.get(name)
        if not items:
            continue
        breaking = [i for i in items if i.startswith(BREAKING)]
        others = [i for i in items if not i.startswith(BREAKING)]
        block += ["", f"### {name}", ""]
        for item in breaking + others:
            block += entry_lines(item)
    return block


@dataclass(frozen=True)
class TagInfo:
    label: str  # the version as the changelog writes it
    date: str  # YYYY-MM-DD
    commit: str = ""  # the sha of the commit it tags, when known


def tags_in(refs: str, tags: dict[str, TagInfo]) -> list[TagInfo]:
    """Release tags among a ``%D`` decoration (``HEAD -> main, tag: v1.0.0``)."""
    found = []
    for ref in refs.split(", "):
        if ref.startswith("tag: ") and ref[5:] in tags:
            found.append(tags[ref[5:]])
    return found
