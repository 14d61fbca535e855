"""The one place where relkit errors become messages and exit codes."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from relkit.errors import EXIT_INTERRUPTED, RelkitError


@contextmanager
def handle_errors() -> Iterator[None]:
    """Turn a :class:`RelkitError` into ``error: <what> — <how to fix>`` and its exit code."""
    try:
        yield
    except RelkitError as exc:
        sys.stderr.write(f"error: {exc}\n")
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        raise typer.Exit(EXIT_INTERRUPTED) from None
