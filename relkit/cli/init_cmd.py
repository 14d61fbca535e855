"""``relkit init``: config, CHANGELOG.md and CI workflows detected from the repository."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from relkit.cli.errors import handle_errors
from relkit.cli.output import data, say, warn


def init(
    ci: Annotated[
        str | None,
        typer.Option("--ci", metavar="PROVIDER", help="Also write CI workflows: github."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite files that differ from what init writes.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would be written (diffs); write nothing.")
    ] = False,
) -> None:
    """Write [tool.relkit] (pyproject.toml) or relkit.toml, CHANGELOG.md, and CI workflows.

    \b
    Detected from the repository: version files, images (every Dockerfile,
    named after the origin remote, e.g. ghcr.io/OWNER/REPO), environments
    (compose files: *staging* and *prod* variants over the base file).
    With --ci github: .github/workflows/ci.yml, release.yml and deploy.yml.
    Idempotent: files that are already as init would write them are left
    alone; a file that differs is kept (its diff is printed on stdout)
    unless --force. CHANGELOG.md is only written when missing.
    """
    with handle_errors():
        from relkit import __version__, git
        from relkit.errors import UsageError
        from relkit.scaffold.detect import detect
        from relkit.scaffold.plan import CREATE, DIFFERS, UNCHANGED, apply, plan

        if ci is not None and ci != "github":
            raise UsageError(f"unknown CI provider {ci!r}", "use --ci github")
        cwd = Path.cwd()
        root = git.toplevel(cwd) if git.is_repo(cwd) else cwd
        detection = detect(root)
        planned = plan(detection, ci, f"relkit=={__version__}")
        if not detection.version_files:
            warn("no version file found: create VERSION, or add [[version_files]] to the config")
        for item in planned:
            if item.status != UNCHANGED and (dry_run or item.status == DIFFERS):
                data(item.edit.diff())
        written = [] if dry_run else apply(planned, force)
        for item in planned:
            name = item.edit.relpath
            if item.status == UNCHANGED:
                say(f"unchanged {name}")
            elif dry_run:
                action = (
                    "add [tool.relkit] to"
                    if item.added_table
                    else ("create" if item.status == CREATE else "overwrite")
                )
                say(f"would {action} {name}")
            elif item in written and item.added_table:
                say(f"added [tool.relkit] to {name}")
            elif item in written:
                say(f"{'created' if item.status == CREATE else 'overwrote'} {name}")
            else:
                warn(f"{name} differs from what init writes; kept (diff above, --force overwrites)")
