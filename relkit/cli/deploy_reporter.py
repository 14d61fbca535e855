"""Step-by-step progress of a deploy: one line per event on stderr."""

from __future__ import annotations

import sys


class LineReporter:
    """Plain lines (CI logs and terminals alike): ``▶ step``, ``✓ step (1.23s)``."""

    def __init__(self, prefix: str, quiet: bool = False) -> None:
        self.prefix = prefix
        self.quiet = quiet

    def _line(self, text: str) -> None:
        if not self.quiet:
            sys.stderr.write(f"[{self.prefix}] {text}\n")
            sys.stderr.flush()

    def step_started(self, name: str) -> None:
        self._line(f"▶ {name}")

    def step_finished(self, name: str, seconds: float, detail: str = "") -> None:
        self._line(f"✓ {name} ({seconds:.2f}s){' ' + detail if detail else ''}")

    def step_failed(self, name: str, seconds: float, error: str) -> None:
        first = error.splitlines()[0] if error else ""
        self._line(f"✗ {name} ({seconds:.2f}s): {first}")

    def info(self, text: str) -> None:
        self._line(f"  {text}")

    def warn(self, text: str) -> None:
        # Warnings show even in --json mode: they are on stderr.
        sys.stderr.write(f"[{self.prefix}] warning: {text}\n")
