"""The ``relkit`` executable: start what the command will wait on, then run the command line.

``relkit changelog generate --all`` waits on git reading the whole history;
git starts here, before the command line is built (which is most of relkit's
start-up), and the command takes it over. See :mod:`relkit.changelog.history`.
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:3] == ["changelog", "generate"]:  # the others import nothing more here
        from relkit.changelog.history import start_early
        from relkit.errors import RelkitError

        try:
            start_early(sys.argv[1:])
        except (RelkitError, OSError):
            pass  # the command itself says what is wrong
    from relkit.cli import entry

    entry()
