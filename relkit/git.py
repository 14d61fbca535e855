"""The git adapter: every git call relkit makes goes through here.

It runs the ``git`` executable with argument lists (never a shell). GitPython
drives the same executable; calling it directly costs no 120 ms import and lets
history stream through one ``git log`` process. Failures become
:class:`GitError` carrying git's own message.
"""

from __future__ import annotations

import io
import os
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from relkit.errors import GitError

if TYPE_CHECKING:  # what runs before a command is built imports this module: it stays light
    from pathlib import Path
    from typing import IO

_RECORD = "\x1e"
_FIELD = "\x1f"


class Commit:
    """One commit as relkit reads it."""

    __slots__ = ("author", "date", "message", "sha")

    def __init__(self, sha: str, message: str, author: str = "", date: str = "") -> None:
        self.sha = sha
        self.message = message
        self.author = author
        self.date = date

    def __repr__(self) -> str:
        return f"Commit({self.sha[:12]}, {self.message.partition(chr(10))[0]!r})"


def run(
    args: Sequence[str], cwd: Path | str, *, check: bool = True, input: str | None = None
) -> str:
    """Run ``git ARGS`` in *cwd* and return its stdout."""
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            input=input,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
    except FileNotFoundError:
        raise GitError("git is not installed", "install git and put it on PATH") from None
    if check and proc.returncode != 0:
        message = (proc.stderr or proc.stdout).strip().splitlines()
        detail = message[-1] if message else f"exit code {proc.returncode}"
        raise GitError(f"git {' '.join(args[:2])} failed: {detail}")
    return proc.stdout


def run_status(args: Sequence[str], cwd: Path | str) -> tuple[int, str, str]:
    """Run ``git ARGS`` and return ``(exit code, stdout, stderr)`` without raising."""
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
    except FileNotFoundError:
        raise GitError("git is not installed", "install git and put it on PATH") from None
    return proc.returncode, proc.stdout, proc.stderr


def toplevel(cwd: Path) -> Path:
    try:
        from pathlib import Path

        return Path(run(["rev-parse", "--show-toplevel"], cwd).strip())
    except GitError:
        raise GitError(f"{cwd} is not inside a git repository", "run 'git init' first") from None


def is_repo(cwd: Path) -> bool:
    return run(["rev-parse", "--git-dir"], cwd, check=False).strip() != ""


def dirty_paths(cwd: Path) -> list[str]:
    """Paths with uncommitted changes (untracked files excluded)."""
    out = run(["status", "--porcelain", "--untracked-files=no"], cwd)
    return [line[3:] for line in out.splitlines() if line.strip()]


def current_branch(cwd: Path) -> str | None:
    out = run(["symbolic-ref", "--quiet", "--short", "HEAD"], cwd, check=False).strip()
    return out or None


def head_sha(cwd: Path | str, short: bool = False) -> str | None:
    args = ["rev-parse", "--verify", "--quiet"]
    if short:
        args.append("--short")
    out = run([*args, "HEAD"], cwd, check=False).strip()
    return out or None


def tags(cwd: Path, pattern: str = "*", merged: bool = False) -> list[str]:
    args = ["tag", "--list", pattern]
    if merged and head_sha(cwd):
        args.append("--merged=HEAD")
    return run(args, cwd).split()


def tag_exists(cwd: Path, name: str) -> bool:
    return run(["rev-parse", "--verify", "--quiet", f"refs/tags/{name}"], cwd, check=False) != ""


def log(cwd: Path, rev_range: str | None = None, paths: Sequence[str] = ()) -> Iterator[Commit]:
    """Stream commits of *rev_range* (default: all of HEAD), newest first, in one git process."""
    for sha, author, date, message in log_records(
        cwd, ("%H", "%an", "%cI", "%B"), rev_range, paths=paths
    ):
        yield Commit(sha, message.strip("\n"), author, date)


def decoration_tags(refs: str) -> list[str]:
    """Tag names in a ``%D`` decoration (``HEAD -> main, tag: v1.0.0, origin/main``)."""
    return [ref[5:] for ref in refs.split(", ") if ref.startswith("tag: ")]


def log_records(
    cwd: Path,
    fields: Sequence[str],
    rev_range: str | None = None,
    *,
    options: Sequence[str] = (),
    paths: Sequence[str] = (),
) -> Iterator[list[str]]:
    """Stream one list of *fields* (``git log`` format placeholders) per commit.

    One ``git log`` process; records are read in 64 KiB chunks, so memory stays
    flat however long the history is.
    """
    stream = LogStream(cwd, fields, rev_range, options=options, paths=paths)
    try:
        yield from stream
    finally:
        stream.close()


def _grow_pipe(fd: int, size: int) -> None:
    """Let a pipe hold *size* bytes, so its writer runs ahead of its reader (Linux only)."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, size)
    except (ImportError, AttributeError, OSError):
        pass  # another system, or over the limit in /proc/sys/fs/pipe-max-size


class LogStream:
    """A ``git log`` started at once (it runs while the caller does other work), read later.

    Iterate it once for the records (see :func:`log_records`); :meth:`close` ends
    the process when the records are not all read. With *to_file*, git writes
    to an unnamed temporary file instead of a pipe, so that it runs to the end
    while the caller reads another log; iterating waits for it and reads the
    file. *head* is HEAD's sha when the caller knows it (None: ask git).
    """

    def __init__(
        self,
        cwd: Path | str,
        fields: Sequence[str],
        rev_range: str | None = None,
        *,
        options: Sequence[str] = (),
        paths: Sequence[str] = (),
        to_file: bool = False,
        head: str | None = None,
        pipe_size: int | None = None,
    ) -> None:
        self.count = len(fields) - 1
        self.rev_range = rev_range
        self.proc: subprocess.Popen[str] | None = None
        self.file: IO[bytes] | None = None
        self.head = head if head is not None else head_sha(cwd)
        if self.head is None:
            return
        fmt = _FIELD.join(fields) + _RECORD
        args = ["git", "log", f"--format={fmt}", *options, rev_range or "HEAD"]
        if paths:
            args += ["--", *paths]
        if to_file:
            self.file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self.proc = subprocess.Popen(
            args,
            cwd=cwd,
            # git log flushes after every commit when its output is a pipe (for a
            # pager); that is a write and a wake-up per commit: 20k commits cost
            # about 70 ms of system time. Let it fill its buffer instead.
            env={**os.environ, "GIT_FLUSH": "0"},
            stdout=self.file if self.file is not None else subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        if pipe_size is not None and self.proc.stdout is not None:
            _grow_pipe(self.proc.stdout.fileno(), pipe_size)

    def __iter__(self) -> Iterator[list[str]]:
        proc = self.proc
        if proc is None:
            return
        if self.file is not None:
            proc.wait()
            self.file.seek(0)
            source: IO[str] = io.TextIOWrapper(self.file, encoding="utf-8", errors="replace")
        else:
            assert proc.stdout is not None
            source = proc.stdout
        count = self.count
        pending = ""
        while chunk := source.read(1 << 16):
            pending += chunk
            *records, pending = pending.split(_RECORD)
            for record in records:
                yield record.lstrip("\n").split(_FIELD, count)
        code, stderr = self._finish()
        if code != 0 and stderr:
            raise GitError(f"git log {self.rev_range or 'HEAD'} failed: {stderr.strip()}")

    def _finish(self) -> tuple[int, str]:
        proc = self.proc
        assert proc is not None
        self.proc = None
        if proc.stdout:
            proc.stdout.close()
        if self.file is not None:
            self.file.close()
            self.file = None
        if proc.poll() is None:
            proc.terminate()
        code = proc.wait()
        stderr = proc.stderr.read() if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
        return code, stderr

    def close(self) -> None:
        if self.proc is not None:
            self._finish()


def commit_paths(cwd: Path, paths: Sequence[str], message: str) -> str:
    """Commit exactly *paths* (other staged changes stay staged) and return the sha."""
    run(["add", "--", *paths], cwd)
    try:
        run(["commit", "--quiet", "--only", "-m", message, "--", *paths], cwd)
    except GitError:
        # Unstage what the add staged (e.g. a hook refused the commit), so that the
        # caller's restored files leave a clean index behind.
        run(["reset", "--quiet", "--", *paths], cwd, check=False)
        raise
    return run(["rev-parse", "HEAD"], cwd).strip()


def create_tag(cwd: Path, name: str, message: str, sign: bool = False, ref: str = "HEAD") -> None:
    args = ["tag", "--sign" if sign else "--annotate", "--cleanup=verbatim", "-F", "-", name, ref]
    run(args, cwd, input=message)


def config_value(cwd: Path, key: str) -> str | None:
    out = run(["config", "--get", key], cwd, check=False).strip()
    return out or None
