"""Output: data on stdout, progress and messages on stderr (rich only when needed)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

    from rich.console import Console

_console: Console | None = None


def data(text: str) -> None:
    """A line of data on stdout."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def data_chunks(chunks: Iterable[str]) -> None:
    """Data on stdout as it is made (a diff of a whole history is megabytes)."""
    write = sys.stdout.write
    for chunk in chunks:
        write(chunk)


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, sort_keys=False) + "\n")


def say(text: str) -> None:
    """A line of progress or information on stderr, printed verbatim."""
    sys.stderr.write(text + "\n")


def warn(text: str) -> None:
    sys.stderr.write(f"warning: {text}\n")


def console() -> Console:
    """A rich console on stderr; user text must go through it with markup off."""
    global _console
    if _console is None:
        from rich.console import Console

        _console = Console(stderr=True, highlight=False)
    return _console


def github_outputs(values: dict[str, str], summary: str | None = None) -> None:
    """Under GitHub Actions, add *values* to $GITHUB_OUTPUT and *summary* to the step summary."""
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return
    output = os.environ.get("GITHUB_OUTPUT")
    if output:
        with Path(output).open("a", encoding="utf-8") as handle:
            for key, value in values.items():
                handle.write(f"{key}={value}\n")
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary and step_summary:
        with Path(step_summary).open("a", encoding="utf-8") as handle:
            handle.write(summary if summary.endswith("\n") else summary + "\n")
