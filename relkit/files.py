"""All-or-nothing file edits: check every file, write each through a temp file
and a rename, and put every file back when any write fails."""

from __future__ import annotations

import difflib
import os
import stat
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from relkit.errors import RelkitError


@dataclass(frozen=True)
class FileEdit:
    """The whole old and new text of one file (``old`` is None for a new file)."""

    path: Path
    relpath: str
    old: str | None
    new: str

    def diff(self) -> str:
        """A unified diff (3 lines of context) from the old text to the new."""
        old = (self.old or "").splitlines(keepends=True)
        new = self.new.splitlines(keepends=True)
        fromfile = f"a/{self.relpath}" if self.old is not None else "/dev/null"
        tofile = f"b/{self.relpath}"
        inserted = _insertion(old, new)
        if inserted is not None:
            lines = _insertion_diff(old, new, inserted, fromfile, tofile)
        else:
            lines = difflib.unified_diff(old, new, fromfile=fromfile, tofile=tofile)
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _insertion(old: list[str], new: list[str]) -> int | None:
    """Where *new* is *old* with lines inserted at one place (an index of *old*), if it is.

    Generating a changelog inserts a long block into a short file: difflib
    would index every new line to find what a prefix and a suffix show.
    """
    if len(new) <= len(old):
        return None
    start = 0
    while start < len(old) and old[start] == new[start]:
        start += 1
    tail = len(old) - start
    if tail and new[len(new) - tail :] != old[start:]:
        return None
    return start


def _insertion_diff(
    old: list[str], new: list[str], at: int, fromfile: str, tofile: str
) -> list[str]:
    added = len(new) - len(old)
    before = old[max(0, at - 3) : at]
    after = old[at : at + 3]
    first = at - len(before)
    return [
        f"--- {fromfile}\n",
        f"+++ {tofile}\n",
        f"@@ -{_range(first, len(before) + len(after))}"
        f" +{_range(first, len(before) + added + len(after))} @@\n",
        *(" " + line for line in before),
        *("+" + line for line in new[at : at + added]),
        *(" " + line for line in after),
    ]


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


def write_atomic(path: Path, text: str) -> None:
    """Replace *path* with *text* through a temp file in the same directory."""
    try:
        mode: int | None = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".relkit", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
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
