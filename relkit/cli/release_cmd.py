"""``relkit release``: the whole release as one resumable pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from relkit.cli.errors import handle_errors
from relkit.cli.output import data, emit_json, github_outputs, say

if TYPE_CHECKING:
    from relkit.config import Config

RELEASE_HELP = """Release: preflight → bump (with changelog) and release commit → build →
push → deploy to each environment in order → tag → push → notes.

\b
PART is major, minor, patch, pre, release or auto (see 'relkit bump --help').
Each step is shown with its state and duration and journalled in
.git/relkit/release.json: after a failure or a killed run,
'relkit release --resume' continues without repeating a finished step (no
second bump, commit, tag or image). A resume whose HEAD moved or whose version
no longer matches refuses and says why; --abandon drops the journal.

\b
Environments: --env staging,production (default: every configured one, in
order; a pre-release goes only to prerelease_envs, default staging).
Production's approval gate asks, or takes --yes. A failed deploy is rolled back
(exit 3), the release is marked failed and no tag is pushed.
'relkit release release' on a pre-release promotes the tested images: the
same digests are retagged and pushed, nothing is rebuilt.
"""


def release(
    part: Annotated[
        str | None, typer.Argument(help="major, minor, patch, pre, release or auto.")
    ] = None,
    pre: Annotated[
        str | None, typer.Option("--pre", metavar="LABEL", help="alpha, beta or rc.")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", metavar="VERSION", help="Release this version.")
    ] = None,
    env: Annotated[
        str | None, typer.Option("--env", help="Comma-separated environments, in order.")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the unfinished release.")
    ] = False,
    abandon: Annotated[
        bool, typer.Option("--abandon", help="Drop the unfinished release's journal.")
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Approve gated environments (CI).")
    ] = False,
    sign: Annotated[
        bool, typer.Option("--sign", help="Sign the tag (default: sign_tags).")
    ] = False,
    no_push: Annotated[bool, typer.Option("--no-push", help="Do not push branch and tag.")] = False,
    remote: Annotated[str, typer.Option("--remote", help="Remote to push to.")] = "origin",
    notes_file: Annotated[
        Path | None, typer.Option("--notes-file", help="Write the release notes here.")
    ] = None,
    date: Annotated[
        str | None, typer.Option("--date", metavar="YYYY-MM-DD", help="Release date.")
    ] = None,
    allow_empty_changelog: Annotated[
        bool, typer.Option("--allow-empty-changelog", help="Release with an empty Unreleased.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan; change nothing.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the plan or result as JSON.")
    ] = False,
) -> None:
    with handle_errors():
        from relkit.cli.deploy_cmd import _approver, _notifier, _reporter, _target
        from relkit.config import load_config
        from relkit.docker.lease import who
        from relkit.release.pipeline import (
            Hooks,
            Release,
            ReleaseOptions,
            check_options,
            describe_plan,
            plan_release,
        )
        from relkit.release.pipeline import (
            abandon as drop,
        )

        config = load_config()
        if abandon:
            say("dropped the unfinished release" if drop(config) else "no release journal")
            return
        options = ReleaseOptions(
            part=part,
            pre=pre,
            to=to,
            environments=tuple(e.strip() for e in env.split(",") if e.strip()) if env else None,
            yes=yes,
            push=not no_push,
            remote=remote,
            sign=sign,
            notes_file=notes_file,
            date=date,
            allow_empty_changelog=allow_empty_changelog,
        )
        check_options(options, resume)
        if dry_run and resume:
            _show_resume(config, as_json)
            return
        if dry_run:
            plan, environments = plan_release(config, options)
            described = {**describe_plan(config, plan, environments), "dry_run": True}
            if as_json:
                emit_json(described)
                return
            say(f"would release {described['previous']} → {described['version']}")
            say(f"  files: {', '.join(described['files'])}")
            say(f"  commit: {described['commit']}")
            for image in described["images"]:
                say(f"  image {image['name']}: {', '.join(image['tags'])} ({image['source']})")
            for item in described["environments"]:
                gate = " (approval)" if item["approval"] else ""
                say(f"  deploy: {item['name']}{gate}")
            say(f"  tag: {described['tag']}{' (signed)' if described['signed'] else ''}")
            say("  steps: " + " → ".join(described["steps"]))
            data(described["version"])
            return
        hooks = Hooks(
            target_for=lambda name: _target(config, config.environment(name)),
            approver_for=lambda name: _approver(config.environment(name), yes, []),
            who=who(),
            notify_for=lambda name: _notifier(config.environment(name)),
        )
        runner = Release(config, options, hooks, _reporter("release"))
        try:
            journal = runner.resume() if resume else runner.start()
        except Exception:
            if not runner.journalled:
                raise
            say(
                "the release stopped; fix the cause and run 'relkit release --resume',"
                " or fix forward with a patch release"
            )
            raise
        tag = config.tag_for(journal.version)
        rows = [
            f"| {s.name} | {s.state} | {'' if s.seconds is None else f'{s.seconds:.1f}s'} |"
            for s in journal.steps
        ]
        summary = "\n".join(
            [
                f"### Released {journal.version} ({tag})",
                "",
                "| step | state | time |",
                "|---|---|---|",
                *rows,
            ]
        )
        github_outputs({"version": journal.version, "tag": tag}, summary)
        if as_json:
            emit_json(journal.as_dict())
            return
        say(f"released {journal.version} ({tag})")
        data(journal.version)


def _show_resume(config: Config, as_json: bool) -> None:
    """``--resume --dry-run``: what the unfinished release has done and has left to do."""
    from relkit.errors import RelkitError
    from relkit.release import journal as jr

    journal = jr.load(config)
    if journal is None or journal.finished:
        raise RelkitError("there is no unfinished release to resume", "start one: relkit release")
    if as_json:
        emit_json({**journal.as_dict(), "dry_run": True})
        return
    say(f"would resume the release of {journal.previous} → {journal.version}")
    say("  steps: " + " → ".join(f"{s.name} ({s.state})" for s in journal.steps))
    data(journal.version)


release.__doc__ = RELEASE_HELP
