"""``relkit bump``: a new version in every version file, committed, all or nothing."""

from __future__ import annotations

from typing import Annotated

import typer

from relkit.cli.errors import handle_errors
from relkit.cli.output import data, emit_json, github_outputs, say

BUMP_HELP = """Bump the version in every version file, then commit (and tag).

\b
PART is one of:
  major    1.3.2 → 2.0.0      1.0.0-rc.1 → 1.0.0 (finishes a pre-major)
  minor    1.3.2 → 1.4.0      1.4.0-rc.2 → 1.4.0   1.4.1-rc.1 → 1.5.0
  patch    1.3.2 → 1.3.3      1.4.0-rc.2 → 1.4.0
  pre      1.4.0-rc.1 → 1.4.0-rc.2; with --pre beta: 1.4.0-alpha.3 → 1.4.0-beta.1
           (labels only move forward: alpha → beta → rc; a final release
           has no pre-release to bump: use 'patch --pre rc' instead)
  release  1.4.0-rc.2 → 1.4.0 (drops the pre-release)
  auto     from the Conventional Commits since the last tag: a breaking
           change (type! or a BREAKING CHANGE: footer) → major, feat → minor,
           fix/perf → patch; on 0.x a breaking change bumps minor
  --to X   any version greater than the current one

\b
major/minor/patch on a pre-release follow node-semver's inc: they finish
the pre-release when it already is that kind of version. With --pre LABEL
they start a pre-release of the next version: 'minor --pre rc' on 1.3.2
gives 1.4.0-rc.1. The pep440 scheme renders 1.4.0rc1, 1.4.0a1, 1.4.0b1.

\b
Before changing anything relkit checks: a clean working tree (or
--allow-dirty), a branch from release_branches, that the new tag does
not exist and that the new version is above every release tag. Every
edit is computed and checked in memory, then written; if any write or
the commit fails, every file is restored. The commit holds only the
files relkit changed.

\b
The changelog is released in the same step: Unreleased becomes
'## [X.Y.Z] - DATE' (--date, default today in UTC) under a fresh empty
Unreleased, and the compare links are rewritten for the forge of the
origin remote (or changelog_link_base). An empty Unreleased is refused
unless --allow-empty-changelog.
"""


def bump(
    part: Annotated[
        str | None,
        typer.Argument(help="major, minor, patch, pre, release or auto.", show_default=False),
    ] = None,
    pre: Annotated[
        str | None, typer.Option("--pre", metavar="LABEL", help="alpha, beta or rc.")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", metavar="VERSION", help="Set this exact version.")
    ] = None,
    commit: Annotated[
        bool, typer.Option("--commit/--no-commit", help="Commit the changed files.")
    ] = True,
    tag: Annotated[bool, typer.Option("--tag", help="Create the release tag.")] = False,
    allow_dirty: Annotated[
        bool, typer.Option("--allow-dirty", help="Allow uncommitted changes.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the diff, commit and tag; change nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    date: Annotated[
        str | None,
        typer.Option("--date", metavar="YYYY-MM-DD", help="Release date (default: today, UTC)."),
    ] = None,
    allow_empty_changelog: Annotated[
        bool,
        typer.Option("--allow-empty-changelog", help="Release even when Unreleased is empty."),
    ] = False,
) -> None:
    with handle_errors():
        from relkit.bump_plan import apply_bump, plan_bump
        from relkit.config import load_config
        from relkit.errors import UsageError

        if (part is None) == (to is None):
            raise UsageError("give either PART or --to VERSION", "see 'relkit bump --help'")
        if part is not None and part not in ("major", "minor", "patch", "pre", "release", "auto"):
            raise UsageError(
                f"unknown part {part!r}", "use major, minor, patch, pre, release, auto or --to"
            )
        from relkit.changelog.plans import release_date, release_edits

        config = load_config()
        plan = plan_bump(
            config,
            part=part,
            pre=pre,
            to=to,
            allow_dirty=allow_dirty,
            commit=commit,
            tag=tag,
            extra_edits=release_edits(config, release_date(date), allow_empty_changelog),
        )
        result = plan.as_dict()
        if dry_run:
            if as_json:
                emit_json({**result, "dry_run": True})
                return
            for edit in plan.edits:
                say(edit.diff().rstrip("\n"))
            say(f"would bump {plan.previous} → {plan.version}")
            if plan.commit_message:
                say(f"would commit: {plan.commit_message}")
            if plan.tag:
                say(f"would tag: {plan.tag}")
            data(str(plan.version))
            return
        sha = apply_bump(config, plan, sign=config.sign_tags)
        result["sha"] = sha
        github_outputs({"version": str(plan.version), **({"tag": plan.tag} if plan.tag else {})})
        if as_json:
            emit_json(result)
            return
        say(f"bumped {plan.previous} → {plan.version} in {', '.join(result['files'])}")  # type: ignore[arg-type]
        if sha:
            say(f"committed {sha[:12]}: {plan.commit_message}")
        if plan.tag:
            say(f"tagged {plan.tag}")
        data(str(plan.version))


bump.__doc__ = BUMP_HELP
