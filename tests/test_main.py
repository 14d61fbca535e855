"""Smoke tests of the installed entry points, in a real subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from relkit import __version__


def test_python_dash_m_relkit_version() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "relkit", "--version"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"relkit {__version__}\n"
    assert proc.stderr == ""


def test_relkit_script_help() -> None:
    script = Path(sys.executable).with_name("relkit")
    proc = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Usage: relkit" in proc.stdout
    for command in ("version", "bump"):
        assert f" {command} " in proc.stdout


def test_launcher_imports_no_typer_before_the_command_line() -> None:
    code = "import sys, relkit.launch; print('typer' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "False", proc.stderr


def test_generate_all_outside_a_repository_starts_nothing(tmp_path: Path) -> None:
    code = (
        "import sys; sys.argv = ['relkit', 'changelog', 'generate', '--all', '--dry-run'];"
        "from relkit import launch, git\n"
        "launch._start_history(); print(sorted(s.proc is None for s in git._started.values()))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert proc.stdout.strip() in ("[]", "[True]"), proc.stderr
