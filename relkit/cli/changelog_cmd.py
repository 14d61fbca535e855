"""``relkit changelog``: add, generate, check and notes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from relkit.cli.errors import handle_errors
from relkit.cli.output import data, data_chunks, emit_json, say

app = typer.Typer(
    name="changelog",
    help="Keep CHANGELOG.md (Keep a Changelog 1.1.0): add, generate, check, notes.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Print the diff on stdout; change nothing.")
]


@app.command("add")
def add(
    kind: Annotated[
        str,
        typer.Argument(
            metavar="TYPE", help="added, changed, deprecated, removed, fixed or security."
        ),
    ],
    message: Annotated[str, typer.Argument(help="The entry (markdown; may span lines).")],
    dry_run: DryRun = False,
) -> None:
    """Append an entry under Unreleased.

    The ### section is created in Keep a Changelog's order when missing, and the
    Unreleased section above the first release when missing. No other line of
    the file changes.
    """
    with handle_errors():
        from relkit.changelog.plans import plan_add
        from relkit.config import load_config
        from relkit.files import apply_edits

        config = load_config()
        edit = plan_add(config, kind, message)
        if dry_run:
            data(edit.diff())
            return
        apply_edits([edit])
        say(f"added to {config.changelog}: {kind.lower()}")


@app.command("generate")
def generate(
    since: Annotated[
        str | None,
        typer.Option("--since", metavar="REF", help="Start after REF (default: the last tag)."),
    ] = None,
    all_history: Annotated[
        bool,
        typer.Option("--all", help="Build the whole changelog: one section per release tag."),
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="With --all: replace released sections a person wrote."),
    ] = False,
    dry_run: DryRun = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Propose entries under Unreleased from the Conventional Commits since the last tag.

    \b
    feat → Added, fix → Fixed, perf/refactor → Changed, revert → Removed,
    deprecate type or Deprecated: footer → Deprecated, security scope or
    Security: footer → Security. Breaking changes are marked **BREAKING** and
    listed first. Each entry keeps its commit in <!-- relkit:SHA --> so that a
    commit is never added twice; an entry with the same text in Unreleased is
    not added either. Commits that are not conventional are skipped and counted.
    """
    with handle_errors():
        from relkit.changelog.plans import plan_generate
        from relkit.config import load_config
        from relkit.files import apply_edits

        config = load_config()
        plan = plan_generate(config, since=since, all_history=all_history, force=force)
        counts = plan.tally.as_dict()
        changed = plan.changed
        if as_json:
            emit_json({**counts, "changed": changed, "dry_run": dry_run})
        elif dry_run and plan.edit is not None and changed:
            data_chunks(plan.edit.diff_chunks())
        if plan.edit is not None and changed and not dry_run:
            apply_edits([plan.edit])
        verb = "would add" if dry_run else "added"
        say(
            f"{verb} {counts['listed']} entries to {config.changelog};"
            f" {counts['already_present']} already present, {counts['unlisted']} of types"
            f" not listed, {counts['not_conventional']} commits not conventional (skipped)"
        )


@app.command("check")
def check(
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="Also: canonical headings, an Unreleased with entries (for CI)."
        ),
    ] = False,
) -> None:
    """Lint the changelog; print FILE:LINE: message for each finding, exit 1 when any.

    \b
    Always: Keep a Changelog structure (one Unreleased on top, known ###
    sections, entries inside sections), version order by the configured
    scheme, ISO 8601 dates, duplicate versions, link references (missing,
    unused, wrong compare range). With --strict also: headings in their
    canonical form and an empty Unreleased (run it before a release).
    """
    with handle_errors():
        from relkit.changelog.lint import lint
        from relkit.changelog.plans import forge_for, require
        from relkit.config import load_config
        from relkit.errors import ChangelogError

        config = load_config()
        try:
            doc = require(config)
        except ChangelogError as exc:
            line = getattr(exc, "line", None)
            if line is None:
                raise
            data(exc.message)
            raise typer.Exit(1) from None
        findings = lint(
            doc, config.scheme, tag_for=config.tag_for, forge=forge_for(config), strict=strict
        )
        for finding in findings:
            data(f"{config.changelog}:{finding.line}: {finding.message}")
        if findings:
            say(f"{len(findings)} finding(s) in {config.changelog}")
            raise typer.Exit(1)
        say(f"{config.changelog}: ok")


@app.command("notes")
def notes(
    version: Annotated[
        str | None,
        typer.Argument(help="The version (default: the current one).", show_default=False),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", metavar="md|json", help="Markdown or JSON.")
    ] = "md",
    template: Annotated[
        Path | None,
        typer.Option("--template", metavar="FILE", help="A jinja2 template of your own."),
    ] = None,
) -> None:
    """Release notes of one version, on stdout.

    Breaking changes first under their own heading, an Upgrading section when the
    version has one or any breaking change, then the sections, then the compare
    link. A template of your own renders in jinja2's sandbox with the same
    variables as the shipped one (see docs/changelog.md).
    """
    with handle_errors():
        from relkit.changelog.notes import notes_for, render_json, render_markdown
        from relkit.changelog.plans import require
        from relkit.config import load_config
        from relkit.errors import UsageError

        if fmt not in ("md", "json"):
            raise UsageError(f"unknown format {fmt!r}", "use md or json")
        config = load_config()
        doc = require(config)
        if version is None:
            from relkit.bump_plan import current_version

            version = str(current_version(config).version)
        release_notes = notes_for(doc, version, config.scheme)
        if fmt == "json":
            data(render_json(release_notes))
            return
        data(render_markdown(release_notes, template))
