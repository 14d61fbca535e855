"""relkit's command line: parse, load config, call the core, render."""

from __future__ import annotations

from typing import Annotated

import typer

from relkit import __version__

app = typer.Typer(
    name="relkit",
    help=(
        "Release engineering for containerised service stacks: versions, changelogs,"
        " signed tags, images, deploys and rollbacks."
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_show_locals=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"relkit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Show relkit's own version and exit.",
            callback=_show_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Release engineering for containerised service stacks.

    Exit codes: 0 success, 1 failed, 2 usage error, 3 deploy failed and rolled
    back, 4 deploy and rollback failed, 5 lock held, 69 Docker or registry
    unreachable, 130 interrupted.
    """


def _register() -> None:
    from relkit.cli import (
        build_cmd,
        bump_cmd,
        changelog_cmd,
        check_cmd,
        deploy_cmd,
        init_cmd,
        release_cmd,
        tag_cmd,
        version_cmd,
    )

    app.command("version")(version_cmd.version)
    app.command("bump")(bump_cmd.bump)
    app.add_typer(changelog_cmd.app, name="changelog")
    app.add_typer(tag_cmd.app, name="tag")
    app.command("build")(build_cmd.build)
    app.command("deploy")(deploy_cmd.deploy)
    app.command("rollback")(deploy_cmd.rollback)
    app.command("status")(deploy_cmd.status)
    app.command("history")(deploy_cmd.history)
    app.command("lock")(deploy_cmd.lock)
    app.command("unlock")(deploy_cmd.unlock)
    app.command("release")(release_cmd.release)
    app.command("check")(check_cmd.check)
    app.command("init")(init_cmd.init)


_register()


def main() -> None:
    app()
