"""relkit as a real process (``python -m relkit``), for tests where a process matters:
signals, locks held by another process, exit codes as a shell sees them."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path


def run_relkit(
    cwd: Path, args: Sequence[str], env: Mapping[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run relkit to the end, no terminal, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "relkit", *args],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )


def start_relkit(cwd: Path, args: Sequence[str], env: Mapping[str, str]) -> subprocess.Popen[str]:
    """Start relkit in the background, output on pipes (to watch it, or to kill it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "relkit", *args],
        cwd=cwd,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
