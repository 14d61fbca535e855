"""The ``relkit`` executable: start what can start early, then run the command line.

This module imports almost nothing, so that work outside Python can begin
before typer and the commands load (about 60 ms).
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:3] == ["changelog", "generate"] and "--all" in sys.argv[3:]:
        _start_history()
    from relkit.cli import main as run

    run()


def _start_history() -> None:
    """Start the whole-history ``git log`` of ``changelog generate --all`` now.

    git walks the history (most of the command's time) while Python imports;
    the command takes the stream when its repository is this directory and
    starts its own otherwise. Without a repository nothing starts.
    """
    from pathlib import Path

    from relkit import git
    from relkit.changelog import HISTORY_FIELDS, HISTORY_OPTIONS

    git.start_log(Path.cwd(), HISTORY_FIELDS, HISTORY_OPTIONS)
