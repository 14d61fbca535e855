"""relkit's command line: parse, load config, call the core, render."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from relkit import __version__


def _new_app() -> typer.Typer:
    root = typer.Typer(
        name="relkit",
        no_args_is_help=True,
        rich_markup_mode=None,
        pretty_exceptions_show_locals=False,
        add_completion=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    root.callback()(_root)
    return root


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"relkit {__version__}")
        raise typer.Exit()


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
    """Release engineering for containerised service stacks: versions,
    changelogs, signed tags, images, deploys and rollbacks.

    \b
    Exit codes: 0 success, 1 failed, 2 usage error, 3 deploy failed and rolled
    back, 4 deploy and rollback failed, 5 lock held, 69 Docker or registry
    unreachable, 130 interrupted.
    """


# Each top-level command: (name, module under relkit.cli, attribute, is a sub-app).
_COMMANDS: tuple[tuple[str, str, str, bool], ...] = (
    ("version", "version_cmd", "version", False),
    ("bump", "bump_cmd", "bump", False),
    ("changelog", "changelog_cmd", "app", True),
    ("tag", "tag_cmd", "app", True),
    ("build", "build_cmd", "build", False),
    ("deploy", "deploy_cmd", "deploy", False),
    ("rollback", "deploy_cmd", "rollback", False),
    ("status", "deploy_cmd", "status", False),
    ("history", "deploy_cmd", "history", False),
    ("lock", "deploy_cmd", "lock", False),
    ("unlock", "deploy_cmd", "unlock", False),
    ("release", "release_cmd", "release", False),
    ("check", "check_cmd", "check", False),
    ("init", "init_cmd", "init", False),
)


def _register(target: typer.Typer, only: str | None = None) -> None:
    """Add the commands (or just *only*) to *target*, importing only their modules."""
    from importlib import import_module

    for name, module, attr, group in _COMMANDS:
        if only is not None and name != only:
            continue
        value = getattr(import_module(f"relkit.cli.{module}"), attr)
        if group:
            target.add_typer(value, name=name)
        else:
            target.command(name)(value)


_full: typer.Typer | None = None


def _full_app() -> typer.Typer:
    global _full
    if _full is None:
        _full = _new_app()
        _register(_full)
    return _full


def __getattr__(name: str) -> typer.Typer:
    # ``relkit.cli.app``, the whole app, built on first use (tests and embedders).
    if name == "app":
        return _full_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Run the command line.

    typer builds every command's parameters from its signature when it runs, so
    a command named first on the command line runs in an app holding only that
    command: the same callback, options and help, without building (and
    importing) the other thirteen. Anything else (``--help``, ``--version``, a
    typo) runs the whole app.
    """
    first = sys.argv[1] if len(sys.argv) > 1 else None
    if first is not None and any(first == name for name, *_ in _COMMANDS):
        single = _new_app()
        _register(single, only=first)
        single()
        return
    _full_app()()


def entry() -> None:
    """The ``relkit`` executable: :func:`main`, then exit without tearing Python down.

    Freeing every object one by one at exit costs a command that built a whole
    changelog of a long history about 15 ms; the process ends anyway. Output is
    flushed and ``atexit`` handlers run first, as a normal exit would.
    """
    import atexit
    import os

    try:
        main()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (relkit ... | head)
            status = status or 1
    os._exit(status)
