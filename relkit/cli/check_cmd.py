"""``relkit check``: preflight and production-readiness of the compose files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from relkit.cli.errors import handle_errors
from relkit.cli.output import data, emit_json, say


def check(
    environment: Annotated[
        str | None,
        typer.Option("--env", metavar="NAME", help="Check only this environment."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object with every check and finding.")
    ] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on warnings too.")] = False,
    no_docker: Annotated[
        bool,
        typer.Option(
            "--no-docker", help="Do not contact the Docker engine (image users unverified)."
        ),
    ] = False,
) -> None:
    """Preflight (config, git, Docker) and production-readiness of the compose files.

    \b
    Findings: FILE:LINE: SEVERITY: RULE: MESSAGE on stdout; exit 1 on any error
    (with --strict, on any warning too). Git is compared with the remote-tracking
    branch as of the last fetch: run 'git fetch' first, relkit does not. An
    unreachable Docker engine is an error finding (exit 1, not 69: check reports,
    it does not need the engine to finish). Rules: docs/check.md.
    """
    with handle_errors():
        from relkit.check.findings import ERROR, WARNING
        from relkit.check.preflight import run_at

        connect = None
        if not no_docker:
            from relkit.docker.images import inspector

            connect = inspector
        cwd = Path.cwd()
        report = run_at(cwd, environment, connect)
        errors, warnings = report.count(ERROR), report.count(WARNING)
        failed = errors > 0 or (strict and warnings > 0)
        if as_json:
            emit_json(
                {
                    "ok": not failed,
                    "errors": errors,
                    "warnings": warnings,
                    "checks": [
                        {"name": c.name, "status": c.status, "detail": c.detail}
                        for c in report.checks
                    ],
                    "findings": [f.as_dict(cwd) for f in report.findings],
                }
            )
        else:
            for item in report.checks:
                say(f"{item.name}: {item.status} ({item.detail})")
            for finding in report.findings:
                data(finding.format(cwd))
            say(
                f"check: {errors} error(s), {warnings} warning(s)"
                if report.findings
                else "check: ok"
            )
        if failed:
            raise typer.Exit(1)
