"""All-or-nothing file edits: check every file, write each through a temp file
and a rename, and put every file back when any write fails."""

from __future__ import annotations

import difflib
import os
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from relkit.errors import RelkitError


@dataclass(frozen=True)
class Part:
    """A long stretch of a :class:`Spliced` text: how many lines it has, and how to read it."""

    lines: int  # each ends with a line ending
    read: Callable[[], str]


@dataclass(frozen=True)
class Spliced:
    """A text too long to hold twice: a short *frame* of lines, some standing for a long part.

    A changelog generated from a long history is a few lines of the user's file
    around release sections kept in a temporary file; the text is written, compared
    and diffed one part at a time, and joined only where nothing else will do.
    """

    frame: tuple[str, ...]  # lines with their endings
    parts: Mapping[int, Part]  # frame line index -> the part that line stands for

    def chunks(self) -> Iterator[str]:
        for index, line in enumerate(self.frame):
            part = self.parts.get(index)
            yield line if part is None else part.read()

    def __str__(self) -> str:
        return "".join(self.chunks())


@dataclass(frozen=True)
class FileEdit:
    """The whole old and new text of one file (``old`` is None for a new file)."""

    path: Path
    relpath: str
    old: str | None
    new: str | Spliced

    @property
    def changes(self) -> bool:
        """True when the new text differs from the old."""
        if isinstance(self.new, str) or self.old is None:
            return self.old != self.new
        old, at = self.old, 0
        for chunk in self.new.chunks():
            if old[at : at + len(chunk)] != chunk:
                return True
            at += len(chunk)
        return at != len(old)

    def diff(self) -> str:
        """A unified diff (3 lines of context) from the old text to the new."""
        return "".join(self.diff_chunks())

    def diff_chunks(self) -> Iterator[str]:
        """:meth:`diff` in pieces, for printing one that is megabytes long as it is made."""
        old = self.old or ""
        fromfile = f"a/{self.relpath}" if self.old is not None else "/dev/null"
        tofile = f"b/{self.relpath}"
        new = self.new
        if isinstance(new, Spliced):
            inserted = _spliced_insertion(old, new)
            if inserted is not None:
                yield from _insertion_diff(old, *inserted, fromfile, tofile)
                return
            new = str(new)
        at = _insertion(old, new)
        if at is not None:
            end = len(new) - (len(old) - at)  # the inserted text is new[at:end]
            added = new.count("\n", at, end) + (new[end - 1] != "\n")
            yield from _insertion_diff(old, at, added, [new[at:end]], fromfile, tofile)
            return
        lines = difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=fromfile,
            tofile=tofile,
        )
        for line in lines:
            yield line if line.endswith("\n") else line + "\n"


def _insertion(old: str, new: str) -> int | None:
    """Where *new* is *old* with whole lines inserted at one place (an offset in *old*), if so.

    Generating a changelog inserts a long block into a short file: difflib
    would split and index every new line to find what a prefix and a suffix
    show. The place is the latest line start that keeps both.
    """
    if len(new) <= len(old):
        return None
    at = old.rfind("\n", 0, _common_prefix(old, new)) + 1  # the line start at or before it
    if not new.endswith(old[at:]):
        return None
    end = len(new) - (len(old) - at)  # the inserted text is new[at:end]
    if at < len(old) and new[end - 1] != "\n":
        return None  # it ends inside a line of old: not whole lines
    return at


def _spliced_insertion(old: str, new: Spliced) -> tuple[int, int, Iterator[str]] | None:
    """``(offset in old, lines added, the added texts)`` when *new*'s frame is *old* with
    lines inserted at one place and every long part among them; else None."""
    at = _insertion(old, "".join(new.frame))
    if at is None:
        return None
    first = old.count("\n", 0, at)  # the frame's first inserted line
    count = len(new.frame) - len(split_lines(old))
    if any(not first <= index < first + count for index in new.parts):
        return None
    inserted = range(first, first + count)
    added = sum(new.parts[i].lines if i in new.parts else 1 for i in inserted)
    texts = (new.parts[i].read() if i in new.parts else new.frame[i] for i in inserted)
    return at, added, texts


def _common_prefix(a: str, b: str) -> int:
    low, high = 0, min(len(a), len(b))
    while low < high:  # compares halves: linear in all
        mid = (low + high + 1) // 2
        if a[low:mid] == b[low:mid]:
            low = mid
        else:
            high = mid - 1
    return low


def _insertion_diff(
    old: str, at: int, added: int, inserted: Iterable[str], fromfile: str, tofile: str
) -> Iterator[str]:
    """The one-hunk diff of *added* lines (the *inserted* texts) put in *old* at offset *at*."""
    start = at  # three lines of context before...
    for _ in range(3):
        if start == 0:
            break
        start = old.rfind("\n", 0, start - 1) + 1
    stop = at  # ...and after
    for _ in range(3):
        if stop == len(old):
            break
        found = old.find("\n", stop)
        stop = len(old) if found < 0 else found + 1
    before = split_lines(old[start:at])
    after = split_lines(old[at:stop])
    first = old.count("\n", 0, start)
    context = len(before) + len(after)
    yield f"--- {fromfile}\n+++ {tofile}\n"
    yield f"@@ -{_range(first, context)} +{_range(first, context + added)} @@\n"
    for line in before:
        yield " " + line
    for text in inserted:
        yield from _plus(text)
    for line in after:
        yield " " + line if line.endswith("\n") else f" {line}\n"


def split_lines(text: str) -> list[str]:
    """Lines with their endings; only ``\\n`` ends a line (as git and editors count)."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _plus(text: str) -> Iterator[str]:
    """Every line of *text* with a "+" before it, a slice of whole lines at a time."""
    at, end, step = 0, len(text), 1 << 16
    while at < end:
        cut = text.find("\n", min(at + step, end) - 1)
        cut = end if cut < 0 else cut + 1
        piece = text[at:cut]
        if piece.endswith("\n"):
            yield "+" + piece[:-1].replace("\n", "\n+") + "\n"
        else:
            yield "+" + piece.replace("\n", "\n+") + "\n"
        at = cut


def _range(start: int, length: int) -> str:
    """A hunk range as ``diff -u`` writes it (*start* counts from 0)."""
    if length == 1:
        return f"{start + 1}"
    if length == 0:
        return f"{start},0"
    return f"{start + 1},{length}"


def read_text(path: Path) -> str | None:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def write_atomic(path: Path, text: str | Spliced) -> None:
    """Replace *path* with *text* through a temp file in the same directory."""
    try:
        mode: int | None = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".relkit", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.writelines(text.chunks() if isinstance(text, Spliced) else (text,))
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def apply_edits(edits: Sequence[FileEdit]) -> None:
    """Write every edit, or none: on failure every file is as it was."""
    for edit in edits:
        if read_text(edit.path) != edit.old:
            raise RelkitError(
                f"{edit.relpath} changed while relkit was working",
                "run the command again",
            )
    written: list[FileEdit] = []
    try:
        for edit in edits:
            write_atomic(edit.path, edit.new)
            written.append(edit)
    except OSError as exc:
        failed = edits[len(written)].relpath
        restore_edits(written)
        raise RelkitError(
            f"could not write {failed}: {exc.strerror or exc}",
            "nothing was changed; fix the cause and run again",
        ) from None


def restore_edits(edits: Sequence[FileEdit]) -> None:
    """Put back the old content of files written by :func:`apply_edits`."""
    for edit in reversed(edits):
        if edit.old is None:
            edit.path.unlink(missing_ok=True)
        else:
            write_atomic(edit.path, edit.old)
