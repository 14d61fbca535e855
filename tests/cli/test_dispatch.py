"""``relkit.cli.main`` runs a named command in an app of its own: same behaviour, less start-up."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from relkit import cli

CASES = [
    ["version", "--help"],
    ["version", "--bogus"],
    ["bump", "--help"],
    ["changelog"],
    ["changelog", "--help"],
    ["changelog", "generate", "--help"],
    ["changelog", "nope"],
    ["tag", "--help"],
    ["deploy", "--help"],
    ["rollback", "--help"],
    ["status", "--help"],
    ["history", "--help"],
    ["lock", "--help"],
    ["unlock", "--help"],
    ["release", "--help"],
    ["check", "--help"],
    ["init", "--help"],
    ["build", "--help"],
]


def test_every_command_is_dispatched() -> None:
    names = [command.name for command in cli.app.registered_commands]
    names += [group.name for group in cli.app.registered_groups]
    assert sorted(names) == sorted(name for name, *_ in cli._COMMANDS)


@pytest.mark.parametrize("args", CASES, ids=" ".join)
def test_single_command_app_behaves_like_the_whole_app(args: list[str]) -> None:
    single = cli._new_app()
    cli._register(single, only=args[0])
    whole = CliRunner().invoke(cli.app, args, prog_name="relkit")
    alone = CliRunner().invoke(single, args, prog_name="relkit")
    assert (alone.exit_code, alone.output) == (whole.exit_code, whole.output)


def test_main_dispatches_a_named_command_without_importing_the_others() -> None:
    code = (
        "import sys; sys.argv = ['relkit', 'version', '--help'];"
        "import relkit.cli as c\n"
        "try:\n    c.main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules"
        " if m.startswith('relkit.cli.') and m.endswith('_cmd')))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "['relkit.cli.version_cmd']"
    assert "Usage: relkit version [OPTIONS]" in proc.stdout


def test_unknown_attribute() -> None:
    with pytest.raises(AttributeError):
        cli.nothing  # noqa: B018


@pytest.mark.parametrize(
    ("args", "status", "out"),
    [(["--version"], 0, "relkit "), (["no-such-command"], 2, ""), (["bump"], 2, "")],
)
def test_entry_exits_with_the_commands_status_after_flushing_and_atexit(
    args: list[str], status: int, out: str
) -> None:
    # entry() ends the process with os._exit: output and atexit handlers must not be lost.
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('atexit ran', file=sys.stderr))\n"
        f"sys.argv = ['relkit', *{args!r}]\n"
        "from relkit.cli import entry\n"
        "entry()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == status, proc.stderr
    assert proc.stdout.startswith(out)
    assert proc.stderr.endswith("atexit ran\n")
