"""``changelog generate --all``: the whole changelog from the whole history, in flat memory.

The history is read once, newest first. Each commit goes to the oldest release
that ships it (:class:`ReleaseWalk`); a release's section is written out as soon
as no commit still to come can belong to it, into a temporary file (the
:class:`Spool`), so that memory holds the releases being read, not the history.

The document is then composed with the releases as one heading line each (a
skeleton, as long as the releases are many, not the commits), with the same
edits as any other changelog change (:func:`compose`), and each heading line is
replaced by its section from the spool. A section is a heading followed by
``###`` sections and bullets; nothing in it changes how the lines around it
read, so that is the text :func:`compose` gives with the whole sections. The
one thing in a section that would (a line opening a code block, from a commit
body) makes the composition take the whole sections instead.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any

from relkit.changelog.edit import add_entries, add_missing_links, insert_blocks
from relkit.changelog.generate import (
    NOT_CONVENTIONAL,
    Proposals,
    Seen,
    TagInfo,
    Tally,
    entry_for,
    is_generated,
    release_block,
    tags_in,
)
from relkit.changelog.model import _FENCE, Changelog, parse
from relkit.errors import ChangelogError
from relkit.files import Part, Spliced, split_lines

if TYPE_CHECKING:
    from relkit.changelog.links import Forge


class OutOfOrder(Exception):
    """The log showed a commit after one of its parents (clock skew on merged branches),
    twice, or not at all."""


class ReleaseWalk:
    """``(sha, message, release)`` for ``(sha, parents, refs, message)`` records from HEAD.

    A commit's release is the oldest release that ships it: the newest release
    tag on the commit itself, else the oldest release of its children (None,
    Unreleased, when a child is unreleased and no other child is released). The
    log needs each commit after all of its children. git's default order gives
    that except where a committer clock ran behind on a merged branch, so once
    a merge has been seen every commit is remembered, and a commit that comes
    after one of its parents, or a parent never shown, raises :class:`OutOfOrder`
    (the caller asks again with ``--topo-order``, which always gives it, but
    only starts to print once it has walked the whole history). Before the
    first merge the history is one line: nothing to remember.
    """

    def __init__(
        self,
        records: Iterable[list[str]],
        tags: dict[str, TagInfo],
        order: Callable[[str], Any],
    ) -> None:
        self.records = records
        self.tags = tags
        self.order = order
        self.pending: dict[str, TagInfo | None] = {}  # commits below those read: their release

    def open(self) -> set[str]:
        """Labels of the releases that a commit still to come may belong to."""
        return {release.label for release in self.pending.values() if release is not None}

    def __iter__(self) -> Iterator[tuple[str, str, TagInfo | None]]:
        pending, tags, order = self.pending, self.tags, self.order
        done: set[str] | None = None  # every commit read since the first merge
        first = True
        for sha, parents, refs, message in self.records:
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
            if len(parents) == 40:  # one parent: the common case
                if done is not None:
                    if parents in done:
                        raise OutOfOrder(parents)
                    done.add(sha)
                if parents in pending:
                    pending[parents] = _older(pending[parents], release, order)
                else:
                    pending[parents] = release
                yield sha, message, release
                continue
            above = parents.split()
            if done is None and len(above) > 1:
                done = set()
            if done is not None:
                done.add(sha)
            for parent in above:
                if done is not None and parent in done:
                    raise OutOfOrder(parent)
                if parent in pending:
                    pending[parent] = _older(pending[parent], release, order)
                else:
                    pending[parent] = release
            yield sha, message, release
        if pending:  # a parent never shown: a commit was missed
            raise OutOfOrder(next(iter(pending)))


def _older(
    one: TagInfo | None, other: TagInfo | None, order: Callable[[str], Any]
) -> TagInfo | None:
    if one is None:
        return other
    if other is None:
        return one
    return one if order(one.label) <= order(other.label) else other


class Spool:
    """Release sections written to a temporary file as they are complete, read back by label."""

    def __init__(self, newline: str) -> None:
        self.newline = newline
        self.file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self.where: dict[str, tuple[int, int, int]] = {}  # label -> (offset, size, lines)
        self.fenced = False  # a section holds a line that opens a code block

    def write(self, info: TagInfo, proposals: Proposals) -> None:
        for items in proposals.sections.values():
            items.reverse()  # read newest first, listed oldest first
        lines = release_block(heading(info), proposals)
        if not self.fenced and any(_FENCE.match(line) for line in lines):
            self.fenced = True
        data = (self.newline.join(lines) + self.newline).encode()
        self.where[info.label] = (self.file.tell(), len(data), len(lines))
        self.file.write(data)

    def part(self, label: str) -> Part:
        return Part(self.where[label][2], lambda: self.read(label))

    def read(self, label: str) -> str:
        offset, size, _ = self.where[label]
        self.file.seek(offset)
        text = self.file.read(size).decode()
        self.file.seek(0, 2)
        return text

    def close(self) -> None:
        self.file.close()


def heading(info: TagInfo) -> str:
    return f"## [{info.label}] - {info.date}"


def compose(
    doc: Changelog,
    blocks: list[tuple[str, list[str]]],
    order: Callable[[str], Any],
    unreleased: dict[str, list[str]],
    forge: Forge | None,
    tag_for: Callable[[str], str],
) -> str:
    """The changelog with release *blocks* by version, *unreleased* entries and missing links."""
    text = insert_blocks(doc, blocks, order)
    if any(unreleased.values()):
        text = add_entries(parse(text, doc.name), unreleased)
    if forge is not None:
        text = add_missing_links(parse(text, doc.name), forge, tag_for)
    return text


def build_all(
    doc: Changelog,
    records: Iterable[list[str]],
    tags: dict[str, TagInfo],
    order: Callable[[str], Any],
    *,
    force: bool = False,
    forge: Forge | None = None,
    tag_for: Callable[[str], str] | None = None,
) -> tuple[str | Spliced, Tally]:
    """The whole changelog from ``(sha, parents, refs, message)`` records, HEAD first.

    Each commit belongs to the oldest release that ships it (:class:`ReleaseWalk`;
    :class:`OutOfOrder` when the log order does not allow telling); commits no
    release ships go to Unreleased (with the dedup rule). Releases are written
    newest version first. A released section that a person wrote (an entry
    without a relkit marker, or free text) is kept, and is an error unless
    *force*, which replaces it. With a *forge* (and *tag_for*), the link
    definitions that are missing are added last. The tally counts an entry of
    a release whose commit the changelog already has as already present.
    """
    wanted = {info.label for info in tags.values()}
    existing = {r.label: r for r in doc.released}
    written = [r for label, r in existing.items() if label in wanted and not is_generated(r)]
    if written and not force:
        lines = ", ".join(f"{r.label} (line {r.line + 1})" for r in written)
        raise ChangelogError(
            f"{doc.name}: --all would overwrite released sections written by a person: {lines}",
            "pass --force to replace them, or use 'generate' without --all",
        )
    spool = Spool(doc.newline)
    try:
        tally, unreleased, releases = _read(doc, records, tags, order, spool)
        for items in unreleased.sections.values():
            items.reverse()
        newest_first = sorted(releases, key=lambda info: order(info.label), reverse=True)
        text = _assemble(doc, spool, newest_first, order, unreleased, forge, tag_for)
    except BaseException:
        spool.close()
        raise
    if isinstance(text, str):
        spool.close()
    return text, tally  # a Spliced text reads the spool; it goes when the text does


def _read(
    doc: Changelog,
    records: Iterable[list[str]],
    tags: dict[str, TagInfo],
    order: Callable[[str], Any],
    spool: Spool,
) -> tuple[Tally, Proposals, list[TagInfo]]:
    """Walk the history: the tally, Unreleased's entries, and the releases written to *spool*."""
    tally = Tally()
    seen = Seen(doc)
    unreleased = Proposals()
    reading: dict[str, tuple[TagInfo, Proposals]] = {}  # releases not yet complete
    releases: list[TagInfo] = []
    labels = [info.label for info in tags.values()]
    early = len(set(labels)) == len(labels)  # two tags of one version: write all at the end
    walk = ReleaseWalk(records, tags, order)
    last: TagInfo | None = None
    current = unreleased
    for sha, message, release in walk:
        if release is not last:
            if last is not None and early:  # left a release: write those complete
                still = walk.open()
                for label in [label for label in reading if label not in still]:
                    if release is None or label != release.label:
                        spool.write(*reading.pop(label))
            last = release
            if release is None:
                current = unreleased
            else:
                if release.label not in reading:
                    # A release's tagged commit comes before its other commits, and
                    # open() holds it while one is to come: it is never written twice.
                    assert release.label not in spool.where, release.label
                    reading[release.label] = (release, Proposals())
                    releases.append(release)
                current = reading[release.label][1]
        result = entry_for(sha, message)
        if result == NOT_CONVENTIONAL:
            tally.skipped += 1
        elif isinstance(result, str):
            tally.unlisted += 1
        elif current is unreleased:
            if seen.has(sha, result[1]):
                tally.duplicates += 1
            else:
                tally.listed += 1
                current.add(*result)
        else:  # a release's section is written whole; the tally says what is new in it
            current.add(*result)
            if seen.has_commit(sha):
                tally.duplicates += 1
            else:
                tally.listed += 1
    for info, proposals in reading.values():
        spool.write(info, proposals)
    return tally, unreleased, releases


def _assemble(
    doc: Changelog,
    spool: Spool,
    releases: list[TagInfo],
    order: Callable[[str], Any],
    unreleased: Proposals,
    forge: Forge | None,
    tag_for: Callable[[str], str] | None,
) -> str | Spliced:
    link_tag = tag_for or str
    if not spool.fenced:
        skeleton = compose(
            doc,
            [(info.label, [heading(info)]) for info in releases],
            order,
            unreleased.sections,
            forge,
            link_tag,
        )
        placed = parse(skeleton, doc.name).releases
        count = Counter(release.label for release in placed)
        if all(count[info.label] == 1 for info in releases):
            parts = {r.line: spool.part(r.label) for r in placed if r.label in spool.where}
            return Spliced(tuple(split_lines(skeleton)), parts)
    # A section opens a code block, or the document has a release twice: compose it whole.
    cut = len(spool.newline)
    whole = [
        (info.label, [line[:-cut] for line in split_lines(spool.read(info.label))])
        for info in releases
    ]
    return compose(doc, whole, order, unreleased.sections, forge, link_tag)
