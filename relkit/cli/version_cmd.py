"""``relkit version``: the current version, its sources and the next ones."""

from __future__ import annotations

from typing import Annotated

import typer

from relkit.cli.errors import handle_errors
from relkit.cli.output import data, emit_json

PART_HELP = "major, minor, patch, pre, release or auto (see 'relkit bump --help')."


def version(
    next_part: Annotated[
        str | None,
        typer.Option("--next", metavar="PART", help=f"Print what 'bump PART' gives: {PART_HELP}"),
    ] = None,
    pre: Annotated[
        str | None,
        typer.Option("--pre", metavar="LABEL", help="Pre-release label: alpha, beta or rc."),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print sources, last tag, commits since and next versions."),
    ] = False,
) -> None:
    """Print the current version (stdout: just the version).

    Every version file must agree; when they do not, the error lists each file
    and what it says.
    """
    with handle_errors():
        from relkit.bump_plan import current_version, next_version
        from relkit.config import load_config

        config = load_config()
        current = current_version(config)
        if next_part is not None:
            data(str(next_version(config, current.version, next_part, pre)))
            return
        if not as_json:
            data(str(current.version))
            return
        emit_json(_report(config, current))


def _report(config: object, current: object) -> dict[str, object]:
    from relkit import git
    from relkit.bump_plan import CurrentVersion, commits_since, last_tag, next_version
    from relkit.config import Config
    from relkit.errors import RelkitError

    assert isinstance(config, Config) and isinstance(current, CurrentVersion)
    in_repo = git.is_repo(config.root)
    tag = last_tag(config) if in_repo else None
    since = sum(1 for _ in commits_since(config, tag)) if in_repo else None
    nexts: dict[str, str | None] = {}
    for part in ("major", "minor", "patch", "pre", "release", "auto"):
        try:
            nexts[part] = str(next_version(config, current.version, part, None))
        except RelkitError:
            nexts[part] = None
    return {
        "version": str(current.version),
        "scheme": config.scheme,
        "sources": [{"file": path, "version": value} for path, value in current.sources],
        "last_tag": tag,
        "commits_since": since,
        "next": nexts,
    }
