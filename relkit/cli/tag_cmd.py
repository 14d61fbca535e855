"""``relkit tag``: the release tag (annotated or signed, message = release notes)."""

from __future__ import annotations

from typing import Annotated

import typer

from relkit.cli.errors import handle_errors
from relkit.cli.output import data, emit_json, say

app = typer.Typer(name="tag", rich_markup_mode=None)


@app.callback(invoke_without_command=True)
def tag(
    ctx: typer.Context,
    sign: Annotated[
        bool, typer.Option("--sign", help="Sign (GPG, or SSH when gpg.format=ssh).")
    ] = False,
    push: Annotated[
        bool, typer.Option("--push", help="Push branch and tag with git push --atomic.")
    ] = False,
    remote: Annotated[str, typer.Option("--remote", metavar="R", help="The remote.")] = "origin",
    force_ref: Annotated[
        bool,
        typer.Option("--force-ref", help="Tag HEAD even when it is not the release commit."),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the tag and its message; change nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Create the annotated release tag of the current version (tag_format).

    \b
    The message is the version's release notes. relkit refuses when the tag
    exists locally or on the remote (git ls-remote), or when HEAD is not the
    release commit of that version (its subject is not commit_message);
    --force-ref tags HEAD anyway. --sign, or sign_tags = true, signs with
    git's own configuration. --push pushes the branch and the tag in one
    git push --atomic, so the remote never has the tag without the commit.
    'relkit tag verify [TAG]' checks a signature.
    """
    if ctx.invoked_subcommand is not None:
        return
    with handle_errors():
        from relkit.config import load_config
        from relkit.tags import create_tag, plan_tag, push_tag

        config = load_config()
        plan = plan_tag(config, sign=sign, push=push, remote=remote, force_ref=force_ref)
        if dry_run:
            if as_json:
                emit_json({**plan.as_dict(), "message": plan.message, "dry_run": True})
                return
            say(f"would tag {plan.sha[:12]} as {plan.name}" + (" (signed)" if plan.sign else ""))
            if plan.remote:
                say(f"would push {plan.branch or ''} {plan.name} to {plan.remote} (atomic)")
            data(plan.message)
            return
        create_tag(config, plan)
        if plan.remote:
            push_tag(config, plan)
        if as_json:
            emit_json(plan.as_dict())
            return
        say(f"tagged {plan.sha[:12]} as {plan.name}" + (" (signed)" if plan.sign else ""))
        if plan.remote:
            say(f"pushed {plan.name} to {plan.remote}")
        data(plan.name)


@app.command("verify")
def verify(
    name: Annotated[
        str | None,
        typer.Argument(metavar="TAG", help="The tag (default: the current version's)."),
    ] = None,
) -> None:
    """Check the signature of a tag; exit 1 when it is missing or bad."""
    with handle_errors():
        from relkit.config import load_config
        from relkit.tags import verify_tag

        config = load_config()
        if name is None:
            from relkit.bump_plan import current_version

            name = config.tag_for(current_version(config).version)
        say(verify_tag(config, name))
        data(name)
