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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from relkit.changelog.model import BREAKING, SECTION_ORDER, Changelog, Release
from relkit.conventional import parse_message
from relkit.errors import ChangelogError

if TYPE_CHECKING:
    from relkit.changelog.links import Forge

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
        if any(sha[:length] in self.shas for length in self.lengths):
            return True
        return normalise(text) in self.texts


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


class OutOfOrder(Exception):
    """The log showed a commit after one of its parents (clock skew on merged branches)."""


def _release_of_each(
    records: Iterable[list[str]],
    tags: dict[str, TagInfo],
    order: Callable[[str], Any],
) -> Iterator[tuple[str, str, TagInfo | None]]:
    """``(sha, message, release)`` for ``(sha, parents, refs, message)`` records from HEAD.

    A commit's release is the oldest release that ships it: the newest release
    tag on the commit itself, else the oldest release of its children (None,
    Unreleased, when a child is unreleased and no other child is released). The
    log needs each commit after all of its children. git's default order gives
    that except where a committer clock ran behind on a merged branch, so once
    a merge has been seen every commit is remembered, and a commit that comes
    after one of its parents raises :class:`OutOfOrder` (the caller asks again
    with ``--topo-order``, which always gives it, but only starts to print once
    it has walked the whole history). Before the first merge the history is one
    line: nothing to remember.
    """
    pending: dict[str, TagInfo | None] = {}  # commits below the ones read, with their release
    done: set[str] | None = None  # every commit read since the first merge
    first = True
    for sha, parents, refs, message in records:
        if sha in pending:
            release: TagInfo | None = pending.pop(sha)
        elif first:
            release = None
        else:
            raise OutOfOrder(sha)  # no child seen: out of order, or not below HEAD
        found = tags_in(refs, tags) if refs else None
        if found:
            release = max(found, key=lambda item: order(item.label))
        first = False
        above = parents.split()
        if done is None and len(above) > 1:
            done = set()
        if done is not None:
            done.add(sha)
        for parent in above:
            if done is not None and parent in done:
                raise OutOfOrder(parent)
            if parent not in pending:
                pending[parent] = release
            else:
                pending[parent] = _older(pending[parent], release, order)
        yield sha, message, release


def _older(
    one: TagInfo | None, other: TagInfo | None, order: Callable[[str], Any]
) -> TagInfo | None:
    if one is None:
        return other
    if other is None:
        return one
    return one if order(one.label) <= order(other.label) else other


def build_all(
    doc: Changelog,
    records: Iterable[list[str]],
    tags: dict[str, TagInfo],
    order: Callable[[str], Any],
    *,
    force: bool = False,
    forge: Forge | None = None,
    tag_for: Callable[[str], str] | None = None,
) -> tuple[str, Tally]:
    """The whole changelog from ``(sha, parents, refs, message)`` records, HEAD first.

    Each commit belongs to the oldest release that ships it (see
    :func:`_release_of_each`; :class:`OutOfOrder` when the log order does not
    allow telling); commits no release ships go to Unreleased (with the dedup
    rule). Releases are written newest version first. A released section that
    a person wrote (an entry without a relkit marker, or free text) is kept,
    and is an error unless *force*, which replaces it. With a *forge* (and
    *tag_for*), the link definitions that are missing are added last.
    """
    from relkit.changelog.edit import add_entries_and_links, insert_blocks_outline

    wanted = {info.label for info in tags.values()}
    existing = {r.label: r for r in doc.released}
    written = [r for label, r in existing.items() if label in wanted and not is_generated(r)]
    if written and not force:
        lines = ", ".join(f"{r.label} (line {r.line + 1})" for r in written)
        raise ChangelogError(
            f"{doc.name}: --all would overwrite released sections written by a person: {lines}",
            "pass --force to replace them, or use 'generate' without --all",
        )
    tally = Tally()
    seen = Seen(doc)
    unreleased = Proposals()
    buckets: dict[str, tuple[TagInfo, Proposals]] = {}
    last: TagInfo | None = None
    current = unreleased
    for sha, message, release in _release_of_each(records, tags, order):
        if release is not last:
            last = release
            if release is None:
                current = unreleased
            else:
                if release.label not in buckets:
                    buckets[release.label] = (release, Proposals())
                current = buckets[release.label][1]
        result = entry_for(sha, message)
        if result == NOT_CONVENTIONAL:
            tally.skipped += 1
        elif isinstance(result, str):
            tally.unlisted += 1
        elif current is unreleased and seen.has(sha, result[1]):
            tally.duplicates += 1
        else:
            tally.listed += 1
            current.add(*result)
    for proposals in (unreleased, *(p for _, p in buckets.values())):
        for items in proposals.sections.values():
            items.reverse()
    blocks = []
    newest_first = sorted(buckets.values(), key=lambda item: order(item[0].label), reverse=True)
    for info, proposals in newest_first:
        heading = f"## [{info.label}] - {info.date}"
        blocks.append((info.label, release_block(heading, proposals)))
    text, outline = insert_blocks_outline(doc, blocks, order)
    if len(unreleased) or forge is not None:
        from relkit.changelog.model import parse

        assert forge is None or tag_for is not None
        inserted = text

        def full() -> Changelog:
            return parse(inserted, doc.name)

        text = add_entries_and_links(
            outline if outline is not None else full(),
            unreleased.sections if len(unreleased) else {},
            forge,
            tag_for or str,
            full=full if outline is not None else None,
        )
    return text, tally
