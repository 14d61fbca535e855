"""The ``relkit …`` commands of the deployment, release and rollback pages, run.

docs/deployment.md, docs/release-process.md and docs/rollback.md show relkit
commands in fenced ``sh`` blocks. This test extracts them and runs them, page
by page and in the order the pages show them, against a throw-away copy of the
example stack (the fixture of tests/test_release_example_stack.py: its own git
repository, the offline base images, image repositories, compose projects and
ports of this test only), with a bare ``origin`` to push to. So a page cannot
show a command, an option or an outcome relkit does not have.

How a page's block is read:

- Only the lines of ```` ```sh ```` (or ``shell``/``bash``) blocks that start
  with ``relkit `` are run, as ``python -m relkit …``; other lines are left to
  the reader. A trailing ``# comment`` is dropped.
- Every command must exit 0, unless its comment starts with ``exits N`` (for a
  command a page shows failing on purpose, e.g. ``relkit status`` on drift).
- One shell redirect is understood, ``> FILE`` at the end: the command's stdout
  goes to FILE in the repository, as the shell would write it. Any other shell
  syntax (pipes, ``&&``, ``;``, other redirects) fails the test.
- Each command runs on a pseudo-terminal, as on the on-call engineer's screen:
  a ``[y/N]`` question (production's approval) is answered ``y``.
- What a page states in prose as a precondition (a changelog entry before a
  release, a signing key for ``tag --sign``, …) is set up by the test right
  before the command that needs it: see ``preconditions`` below.

``test_pages_show_only_relkit_commands`` parses every command against relkit's
CLI without Docker, so a renamed command or option fails in every test run.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import select
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import docker
import docker.errors
import pytest
from typer.testing import CliRunner

from relkit.cli import app
from tests.conftest import git
from tests.test_release_example_stack import (  # noqa: F401 (released_stack: a fixture)
    ReleasedStack,
    released_stack,
)

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = ("deployment.md", "release-process.md", "rollback.md")
SHELLS = ("sh", "shell", "bash")
FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*([^\s`]*)")
EXITS = re.compile(r"^exits? (\d+)\b")
PROMPT = re.compile(rb"\[y/N\]: ?$")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
COMMAND_TIMEOUT = 600.0


@dataclass(frozen=True)
class DocCommand:
    page: str
    line: int  # 1-based line in the page
    text: str  # the command as the page shows it, without its comment
    args: tuple[str, ...]  # after "relkit"
    stdout: str | None = None  # FILE of a trailing "> FILE"
    exit_code: int = 0

    def __str__(self) -> str:
        return f"{self.page}:{self.line}: {self.text}"


def split_comment(line: str) -> tuple[str, str]:
    """The command and its trailing ``# comment`` (a ``#`` inside quotes is no comment)."""
    for match in re.finditer(r"(?:^|\s)#", line):
        head = line[: match.start()]
        try:
            shlex.split(head)
        except ValueError:  # an unclosed quote: this # is inside it
            continue
        return head.rstrip(), line[match.end() :].strip()
    return line.rstrip(), ""


def parse_command(page: str, number: int, line: str) -> DocCommand:
    text, comment = split_comment(line.strip())
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    words = list(lexer)
    stdout = None
    if len(words) >= 3 and words[-2] == ">":
        stdout = words[-1]
        words = words[:-2]
    shell = [w for w in words if w and set(w) <= set("|&;<>()")]
    if shell:
        raise AssertionError(
            f"{page}:{number}: shell syntax {shell} in {text!r}: the docs test understands"
            " only a trailing '> FILE'"
        )
    exits = EXITS.match(comment)
    return DocCommand(
        page=page,
        line=number,
        text=text,
        args=tuple(words[1:]),
        stdout=stdout,
        exit_code=int(exits.group(1)) if exits else 0,
    )


def doc_commands(page: str) -> list[DocCommand]:
    """The relkit commands of the page's shell blocks, in order."""
    commands = []
    fence: str | None = None
    shell = False
    lines = (DOCS / page).read_text().splitlines()
    for number, line in enumerate(lines, start=1):
        match = FENCE.match(line)
        if fence is None:
            if match:
                fence, shell = match.group(1), match.group(2).lower() in SHELLS
            continue
        if match and match.group(1).startswith(fence) and not match.group(2):
            fence = None
            continue
        if shell and line.strip().startswith("relkit "):
            commands.append(parse_command(page, number, line))
    assert fence is None, f"{page}: a fenced block is not closed"
    return commands


def all_commands() -> list[DocCommand]:
    return [command for page in PAGES for command in doc_commands(page)]


def test_pages_show_only_relkit_commands() -> None:
    """Every command parses against relkit's CLI (with --help: nothing runs)."""
    commands = all_commands()
    assert commands, "no relkit command found in the docs"
    for command in commands:
        result = CliRunner().invoke(app, [*command.args, "--help"])
        assert result.exit_code == 0, f"{command}\n{result.output}"


def test_comment_and_redirect_parsing() -> None:
    command = parse_command("p.md", 3, "relkit changelog notes > notes.md   # the notes")
    assert (command.args, command.stdout, command.exit_code) == (
        ("changelog", "notes"),
        "notes.md",
        0,
    )
    command = parse_command("p.md", 4, 'relkit lock prod --reason "a # b"  # exits 1: held')
    assert (command.args, command.exit_code) == (("lock", "prod", "--reason", "a # b"), 1)
    with pytest.raises(AssertionError, match="shell syntax"):
        parse_command("p.md", 5, "relkit history prod | head")


# -- running them -----------------------------------------------------------------


@dataclass
class Outcome:
    exit_code: int
    transcript: str  # stdout and stderr as the terminal showed them (stdout: unless redirected)
    answers: int  # [y/N] questions answered "y"


def run_on_terminal(
    argv: list[str], cwd: Path, env: dict[str, str], stdout: Path | None
) -> Outcome:
    """Run *argv* with a pseudo-terminal as stdin and stderr (and stdout unless redirected)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
    out = stdout.open("wb") if stdout is not None else None
    try:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=slave,
            stdout=out if out is not None else slave,
            stderr=slave,
            start_new_session=True,
        )
    finally:
        os.close(slave)
        if out is not None:
            out.close()
    transcript = bytearray()
    asked_from = 0
    answers = 0
    deadline = time.monotonic() + COMMAND_TIMEOUT
    try:
        while True:
            if time.monotonic() > deadline:
                os.killpg(process.pid, signal.SIGKILL)
                raise AssertionError(f"timed out after {COMMAND_TIMEOUT:.0f}s: {argv}")
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                if process.poll() is not None:
                    break  # exited; a left-over grandchild may still hold the terminal
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every end of the terminal is closed
                chunk = b""
            if not chunk:
                break
            transcript += chunk
            if PROMPT.search(transcript[asked_from:].rstrip(b"\r\n")):
                os.write(master, b"y\n")
                asked_from = len(transcript)
                answers += 1
        exit_code = process.wait(timeout=60)
    finally:
        os.close(master)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    text = ANSI.sub("", transcript.decode(errors="replace")).replace("\r\n", "\n")
    return Outcome(exit_code, text, answers)


@dataclass
class DocsRun:
    """The example stack with an origin, and what the pages' commands did to it."""

    stack: ReleasedStack
    env: dict[str, str] = field(default_factory=dict)
    timings: list[tuple[DocCommand, float, int]] = field(default_factory=list)

    @property
    def root(self) -> Path:
        return self.stack.root

    def run(self, command: DocCommand) -> Outcome:
        stdout = self.root / command.stdout if command.stdout else None
        started = time.monotonic()
        outcome = run_on_terminal(
            [sys.executable, "-m", "relkit", *command.args], self.root, self.env, stdout
        )
        self.timings.append((command, time.monotonic() - started, outcome.answers))
        return outcome

    def relkit(self, *args: str) -> None:
        """relkit as the test's own setup (not a command of the pages)."""
        result = subprocess.run(
            [sys.executable, "-m", "relkit", *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        assert result.returncode == 0, f"setup: relkit {shlex.join(args)}\n{result.stderr}"

    def commit_change(self, entry: str, message: str) -> None:
        """A change's changelog entry, committed: what the next release has to say."""
        self.relkit("changelog", "add", "fixed", entry)
        git(self.root, "commit", "-qam", message)


@contextlib.contextmanager
def signing_key(repo: Path) -> Iterator[dict[str, str]]:
    """A fresh GPG key in a temporary GNUPGHOME, configured as the repository's signing key."""
    # A short path: gpg-agent's socket lives in GNUPGHOME when /run/user has no place for it.
    home = Path(tempfile.mkdtemp(prefix="relkit-gpg-"))
    env = {**os.environ, "GNUPGHOME": str(home)}
    try:
        subprocess.run(
            ["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "",
             "--quick-generate-key", "relkit docs <docs@relkit.invalid>", "ed25519", "sign", "1d"],
            env=env, check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        listing = subprocess.run(
            ["gpg", "--batch", "--with-colons", "--list-secret-keys"],
            env=env, check=True, capture_output=True, text=True, timeout=60,
        ).stdout  # fmt: skip
        fingerprint = next(ln.split(":")[9] for ln in listing.splitlines() if ln.startswith("fpr"))
        git(repo, "config", "user.signingkey", fingerprint)
        yield {"GNUPGHOME": str(home)}
    finally:
        subprocess.run(["gpgconf", "--kill", "all"], env=env, check=False, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def remove_images(client: docker.DockerClient, stack: ReleasedStack) -> None:
    """The images the pages' builds left in the engine (they carry no test label)."""
    for image in ("api", "backup"):
        name = f"{stack.registry}/{stack.repository(image)}"
        for found in client.images.list(name=name):
            with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                client.images.remove(found.id, force=True)


@pytest.fixture
def docs_run(
    released_stack: ReleasedStack,  # noqa: F811
    tmp_path: Path,
) -> Iterator[DocsRun]:
    stack = released_stack
    remote = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(stack.root, "remote", "add", "origin", str(remote))
    git(stack.root, "push", "-q", "-u", "origin", "main")
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "NO_COLOR")}
    run = DocsRun(stack, {**env, "TERM": "xterm"})
    try:
        yield run
    finally:
        stack.cleanup()  # the containers first: an image in use cannot go
        remove_images(stack.client, stack)


@pytest.mark.docker
@pytest.mark.slow
def test_docs_commands_run_against_the_example_stack(docs_run: DocsRun) -> None:
    run = docs_run
    bad_release: list[str] = []  # what production runs when the runbook starts
    keys = contextlib.ExitStack()

    def with_signing_key() -> None:
        run.env.update(keys.enter_context(signing_key(run.root)))

    # What a page says in prose has to be true before one of its commands: set up
    # right before that command, keyed by page and command (each must be used).
    preconditions: dict[tuple[str, str], Callable[[], None]] = {
        # release-process.md, by hand: the entry is committed before the bump
        # (the page's `git commit` line).
        ("release-process.md", "relkit bump minor"): lambda: git(
            run.root, "commit", "-qam", "docs(changelog): retry the first database connection"
        ),
        # "relkit tag --sign" signs with git's own configuration: a key.
        ("release-process.md", "relkit tag --sign --push"): with_signing_key,
        # Each release has something in Unreleased to say; rc.2 comes "after a fix".
        ("release-process.md", "relkit release minor --pre rc"): lambda: run.commit_change(
            "Paginate the item list", "fix(api): paginate the item list"
        ),
        ("release-process.md", "relkit release pre"): lambda: run.commit_change(
            "The item list's last page", "fix(api): the item list's last page"
        ),
        # rollback.md's restore section is the other way out of the same incident:
        # the bad release runs again, as it did before the immediate rollback.
        ("rollback.md", "relkit rollback production --dry-run --restore-db"): lambda: run.relkit(
            "deploy", "production", "--version", bad_release[0], "--yes"
        ),
        # "A stale lock": a lock whose run is gone.
        ("rollback.md", "relkit unlock production"): lambda: run.relkit(
            "lock", "production", "--reason", "a deploy that was killed"
        ),
    }
    used: set[tuple[str, str]] = set()
    with keys:
        for page in PAGES:
            run_page(run, page, preconditions, used, bad_release)
    assert used == set(preconditions), f"preconditions of no command: {set(preconditions) - used}"
    report = "\n".join(
        f"{seconds:6.1f}s  {command}" + " (answered y)" * answers
        for command, seconds, answers in run.timings
    )
    print(f"\n{report}")


def run_page(
    run: DocsRun,
    page: str,
    preconditions: dict[tuple[str, str], Callable[[], None]],
    used: set[tuple[str, str]],
    bad_release: list[str],
) -> None:
    if page == "rollback.md":
        bad_release.append((run.root / "VERSION").read_text().strip())
    for command in doc_commands(page):
        key = (page, command.text)
        if key in preconditions and key not in used:
            preconditions[key]()
            used.add(key)
        outcome = run.run(command)
        assert outcome.exit_code == command.exit_code, (
            f"{command}\n$ relkit {shlex.join(command.args)}\n"
            f"exit {outcome.exit_code}, expected {command.exit_code}\n{outcome.transcript}"
        )
        if command.stdout:
            assert (run.root / command.stdout).stat().st_size > 0, f"{command}: no output"
