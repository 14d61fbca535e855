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
