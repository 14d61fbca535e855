"""``relkit deploy``, ``rollback``, ``status``, ``history``, ``lock`` and ``unlock``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from relkit.cli.errors import handle_errors
from relkit.cli.output import data, emit_json, github_outputs, say, warn

if TYPE_CHECKING:
    from relkit.config import Config, EnvironmentConfig
    from relkit.deploy.pipeline import Approver
    from relkit.deploy.records import ReleaseRecord

EnvArg = Annotated[
    str, typer.Argument(help="Environment name from the config.", show_default=False)
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Approve without asking (CI).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
DryOpt = Annotated[bool, typer.Option("--dry-run", help="Print the plan; change nothing.")]


def _target(config: Config, env: EnvironmentConfig) -> Any:
    if env.driver == "swarm":
        from relkit.deploy.swarm_target import SwarmTarget

        target = SwarmTarget(config, env)
        target.on_warning = warn
        return target
    from relkit.deploy.compose_target import ComposeTarget

    return ComposeTarget(config, env)


def _environment(name: str) -> tuple[Config, EnvironmentConfig]:
    from relkit.config import load_config

    config = load_config()
    return config, config.environment(name)


@contextmanager
def _opened(config: Config, env: EnvironmentConfig) -> Iterator[Any]:
    """The deploy target of *env*, closed on the way out."""
    target = _target(config, env)
    try:
        yield target
    finally:
        target.close()


def _approver(env: EnvironmentConfig, yes: bool, details: list[str]) -> Approver | None:
    if not env.approval:
        return None
    from relkit.docker.lease import who
    from relkit.errors import RelkitError

    def approve(summary: str) -> str:
        if yes:
            return f"{who()} (--yes)"
        if not sys.stdin.isatty():
            raise RelkitError(
                f"environment {env.name} needs approval and there is no terminal to ask",
                "pass --yes to approve (in CI, gate the job instead)",
            )
        say(summary)
        for line in details:
            say(f"  {line}")
        if not typer.confirm(f"Deploy to {env.name}?", default=False, err=True):
            raise RelkitError("not approved", "nothing was changed")
        return who()

    return approve


def _notifier(env: EnvironmentConfig) -> Any:
    if not env.notify:
        return None
    from relkit.deploy.notify import post_all

    def notify(record: ReleaseRecord) -> list[str]:
        seconds = sum(record.durations.values())
        text = (
            f"relkit: {record.kind} of {record.version} to {record.environment}"
            f" {record.outcome.replace('_', ' ')} in {seconds:.1f}s (by {record.who})"
        )
        if record.error:
            text += f"\n{record.error.splitlines()[0]}"
        return post_all(env.notify, text)

    return notify


def _between(config: Config, old: str | None, new: str | None) -> list[str]:
    if not old or not new or old == new:
        return []
    from relkit import git
    from relkit.errors import GitError

    try:
        lines = git.run(["log", "--oneline", "--no-decorate", f"{old}..{new}"], config.root)
    except GitError:
        return []
    commits = lines.splitlines()
    shown = [f"commit {c}" for c in commits[:10]]
    if len(commits) > 10:
        shown.append(f"… and {len(commits) - 10} more commits")
    return shown


def deploy(
    environment: EnvArg,
    version: Annotated[
        str | None, typer.Option("--version", help="Version to deploy (default: the current one).")
    ] = None,
    yes: YesOpt = False,
    no_rollback: Annotated[
        bool, typer.Option("--no-rollback", help="On failure, leave the failed release running.")
    ] = False,
    dry_run: DryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Deploy a built version to ENV, pinned by digest, behind health and smoke gates.

    \b
    Steps, each printed with its duration:
      lock → approval → pre-deploy hooks (e.g. backup) → migrate → rollout →
      health (every healthcheck healthy and staying so) → smoke tests →
      record → notify → unlock.
    A failure in rollout, health or smoke rolls back to the previous good
    release through the same gates: exit 3 when that worked, 4 when it did
    not. Exit 5 when another deploy holds the lock, 69 when the engine is
    unreachable.
    """
    with handle_errors():
        from relkit.build_record import find_build
        from relkit.bump_plan import current_version
        from relkit.deploy import records as rec
        from relkit.deploy.pipeline import Release, execute, pins_for
        from relkit.docker.lease import who

        config, env = _environment(environment)
        wanted = version or str(current_version(config).version)
        with _opened(config, env) as target:
            build = find_build(config, wanted)
            images = {name: image.ref for name, image in build.images.items()}
            sha = build.git_sha or None
            release = Release(wanted, images, sha, (build.built_as,) if build.built_as else ())
            if dry_run:
                records = target.records()
                current = rec.current(records)
                plan = {
                    "environment": env.name,
                    "driver": env.driver,
                    "namespace": target.namespace,
                    "from": current.version if current else None,
                    "version": wanted,
                    "images": images,
                    "pins": pins_for(config, release),
                    "steps": _steps(env),
                    "approval": env.approval,
                    "dry_run": True,
                }
                _show_plan(plan, as_json)
                return
            details = _between(config, _sha_of(target), sha)
            record = execute(
                config,
                env,
                target,
                release,
                _reporter(f"deploy {env.name}"),
                approve=_approver(env, yes, details),
                rollback=not no_rollback,
                who=who(),
                notify=_notifier(env),
            )
        github_outputs({"version": record.version, "environment": env.name})
        if as_json:
            emit_json(record.as_dict())
        else:
            total = sum(record.durations.values())
            say(f"deployed {record.version} to {env.name} in {total:.1f}s")
            data(record.version)


def _sha_of(target: Any) -> str | None:
    from relkit.deploy import records as rec

    try:
        current = rec.current(target.records())
    except Exception:
        return None
    return current.git_sha if current else None


def _steps(env: EnvironmentConfig) -> list[str]:
    steps = ["lock"]
    if env.approval:
        steps.append("approval")
    steps += [f"pre-deploy: {s}" for s in env.pre_deploy]
    if env.migrate:
        steps.append(f"migrate: {env.migrate}")
    steps += ["rollout", "health"]
    if env.smoke:
        steps.append(f"smoke: {len(env.smoke)} check(s)")
    return [*steps, "record", *(["notify"] if env.notify else []), "unlock"]


def _show_plan(plan: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(plan)
        return
    now = plan["from"] or "nothing recorded"
    if plan.get("kind") == "rollback":
        say(f"would roll {plan['environment']} back from {now} to {plan['version']}")
    else:
        say(f"would deploy {plan['version']} to {plan['environment']} (now: {now})")
    for service, ref in sorted(plan["pins"].items()):
        say(f"  {service}: {ref}")
    for note in plan.get("notes", []):
        say(f"  note: {note}")
    say("  steps: " + " → ".join(plan["steps"]))


def _reporter(prefix: str) -> Any:
    """Progress lines on stderr, also with --json (stdout carries only the JSON)."""
    from relkit.cli.deploy_reporter import LineReporter

    return LineReporter(prefix)


def rollback(
    environment: EnvArg,
    to: Annotated[str | None, typer.Option("--to", help="Recorded version to go back to.")] = None,
    restore_db: Annotated[
        bool,
        typer.Option(
            "--restore-db", help="Also restore the database backup taken before the migration."
        ),
    ] = False,
    yes: YesOpt = False,
    dry_run: DryOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Go back to the previous good release of ENV (or --to V), by digest.

    Nothing is built or pulled when the images are present. The same gates as
    deploy apply (lock, approval, health, smoke) and the rollback is recorded
    like a deploy. A rollback over a migration leaves the schema at the newer
    version unless --restore-db restores the backup taken before it.
    """
    with handle_errors():
        from relkit.deploy import records as rec
        from relkit.deploy.pipeline import Release, execute, pins_for
        from relkit.docker.lease import who
        from relkit.errors import RelkitError

        config, env = _environment(environment)
        with _opened(config, env) as target:
            records = target.records()
            current = rec.current(records)
            if current is None:
                raise RelkitError(
                    f"no successful release of {env.name} is recorded", "nothing to roll back"
                )
            if to is not None:
                goal = rec.find_version(records, to)
                if goal is None:
                    known = sorted({r.version for r in records if r.outcome == rec.SUCCEEDED})
                    raise RelkitError(
                        f"no successful release {to} of {env.name} is recorded",
                        f"recorded: {', '.join(known) or 'none'}",
                    )
            else:
                goal = rec.previous_good(records, current)
                if goal is None:
                    raise RelkitError(
                        f"{env.name} has no good release before {current.version}",
                        "nothing to roll back to; deploy a fixed version instead",
                    )
            migrated, backup = rec.migrations_since(records, goal)
            notes = []
            if migrated and not restore_db:
                notes.append(
                    "a migration ran since " + goal.version + "; the database schema stays at the"
                    " newer version (use --restore-db to restore the backup taken before it)"
                )
            if restore_db and backup is None:
                raise RelkitError(
                    f"no backup is recorded between {goal.version} and {current.version}",
                    "roll back without --restore-db, or restore by hand",
                )
            release = Release(goal.version, goal.images, goal.git_sha, tuple(goal.reports))
            if dry_run:
                plan = {
                    "kind": "rollback",
                    "environment": env.name,
                    "from": current.version,
                    "version": goal.version,
                    "images": dict(goal.images),
                    "pins": pins_for(config, release),
                    "migrations_between": [r.version for r in migrated],
                    "restore_backup": backup if restore_db else None,
                    "notes": notes,
                    "steps": [
                        "lock",
                        *(["approval"] if env.approval else []),
                        *(["restore"] if restore_db else []),
                        "rollout",
                        "health",
                        *(["smoke"] if env.smoke else []),
                        "record",
                        "unlock",
                    ],
                    "dry_run": True,
                }
                _show_plan(plan, as_json)
                return
            for note in notes:
                warn(note)
            record = execute(
                config,
                env,
                target,
                release,
                _reporter(f"rollback {env.name}"),
                kind=rec.ROLLBACK,
                approve=_approver(env, yes, [f"from {current.version} to {goal.version}"]),
                restore_backup=backup if restore_db else None,
                who=who(),
                notify=_notifier(env),
            )
        if as_json:
            emit_json(record.as_dict())
        else:
            say(f"rolled {env.name} back to {record.version}")
            data(record.version)


def status(environment: EnvArg, as_json: JsonOpt = False) -> None:
    """What runs in ENV: the release, per-service health and drift (exit 1 on drift)."""
    with handle_errors():
        from relkit.deploy import records as rec
        from relkit.deploy.pipeline import Release, pins_for

        config, env = _environment(environment)
        with _opened(config, env) as target:
            records = target.records()
            current = rec.current(records)
            states = target.snapshot()
            lock = target.lock_info()
            long_running = target.long_running()
        pins = pins_for(config, Release(current.version, current.images)) if current else {}
        drift = []
        for state in states:
            want = pins.get(state.service)
            if want and not state.runs(want):
                drift.append(
                    f"{state.service} ({state.name}) runs {state.image_ref}, recorded {want}"
                )
        present = {state.service for state in states}
        for service, want in sorted(pins.items()):
            if service in long_running and service not in present:
                drift.append(f"{service} has no container, recorded {want}")
        unfinished = [r for r in records if r.outcome == rec.IN_PROGRESS]
        notes = []
        for r in unfinished:
            if lock is None or lock.stale_reason() is not None:
                good = current.version if current else r.version
                notes.append(
                    f"a {r.kind} of {r.version} by {r.who} started {r.started_at} was interrupted;"
                    f" run 'relkit deploy {env.name} --version {good}' to converge,"
                    " or 'relkit rollback'"
                )
            else:
                notes.append(f"a {r.kind} of {r.version} by {r.who} is running now")
        report = {
            "environment": env.name,
            "namespace": target.namespace,
            "release": current.as_dict() if current else None,
            "services": [
                {
                    "service": s.service,
                    "container": s.name,
                    "status": s.status,
                    "health": s.health,
                    "image": s.image_ref,
                }
                for s in states
            ],
            "drift": drift,
            "lock": None
            if lock is None
            else {
                "owner": lock.owner,
                "host": lock.host,
                "since": lock.since,
                "purpose": lock.purpose,
                "stale": lock.stale_reason(),
            },
            "notes": notes,
        }
        if as_json:
            emit_json(report)
        else:
            if current:
                when, by = current.started_at, current.who
                say(f"{env.name}: {current.version} (deployed {when} by {by})")
            else:
                say(f"{env.name}: no successful release recorded")
            for s in states:
                health = s.health or ("running" if s.status == "running" else s.status)
                data(f"{s.service:<16} {health:<10} {s.image_ref}")
            if lock is not None:
                stale = lock.stale_reason()
                say(f"lock: held by {lock.describe()}" + (f" — stale: {stale}" if stale else ""))
            for note in notes:
                warn(note)
            for line in drift:
                warn(f"drift: {line}")
        if drift:
            raise typer.Exit(1)


def history(
    environment: EnvArg,
    as_json: JsonOpt = False,
    limit: Annotated[int, typer.Option("--limit", "-n", help="Show the newest N.")] = 20,
    dora: Annotated[
        bool,
        typer.Option(
            "--dora",
            help="DORA metrics: deploy frequency, lead time, change-failure rate, time to restore.",
        ),
    ] = False,
    since: Annotated[
        str, typer.Option("--since", help="Window for --dora: e.g. 30d, 12h, 4w.")
    ] = "30d",
) -> None:
    """The recorded releases of ENV, newest first, and how each went.

    With --dora, the four DORA metrics over the window (docs/deployment.md
    defines them): lead time needs the release commits in the local clone.
    """
    with handle_errors():
        config, env = _environment(environment)
        with _opened(config, env) as target:
            all_records = target.records()
        if dora:
            _dora(config, env.name, all_records, since, as_json)
            return
        records = list(reversed(all_records))[:limit]
        if as_json:
            emit_json([r.as_dict() for r in records])
            return
        for r in records:
            seconds = sum(r.durations.values())
            data(
                f"{r.started_at[:19]}  {r.kind:<8} {r.version:<14} {r.outcome:<16}"
                f" {seconds:6.1f}s  {r.who}"
            )


def _dora(config: Config, name: str, records: list[Any], since: str, as_json: bool) -> None:
    from datetime import UTC, datetime

    from relkit import git
    from relkit.deploy.dora import compute, parse_window
    from relkit.errors import GitError

    def first_commit(previous: str | None, sha: str) -> float | None:
        if previous is None or not git.is_repo(config.root):
            return None
        try:
            out = git.run(["log", "--format=%ct", f"{previous}..{sha}"], config.root)
        except GitError:
            return None
        times = [int(t) for t in out.split()]
        return float(min(times)) if times else None

    result = compute(name, records, parse_window(since), datetime.now(UTC), first_commit)
    if as_json:
        emit_json(result.as_dict())
        return

    def hours(seconds: float | None) -> str:
        if seconds is None:
            return "n/a"
        if seconds < 120:
            return f"{seconds:.0f} s"
        if seconds < 7200:
            return f"{seconds / 60:.0f} min"
        if seconds < 172800:
            return f"{seconds / 3600:.1f} h"
        return f"{seconds / 86400:.1f} days"

    rate = result.change_failure_rate
    data(f"environment:           {name} ({result.since} → {result.until})")
    data(f"deployment frequency:  {result.deploys_per_day:.2f}/day ({result.deployments} deploys)")
    data(f"lead time for changes: {hours(result.lead_time_seconds)} (median)")
    data(
        "change-failure rate:   "
        + ("n/a" if rate is None else f"{rate * 100:.0f}% ({result.failures} failed)")
    )
    data(f"time to restore:       {hours(result.time_to_restore_seconds)} (median)")


def lock(
    environment: EnvArg,
    reason: Annotated[str, typer.Option("--reason", help="Why (shown to others).")] = "manual",
) -> None:
    """Hold ENV's deploy lock until 'relkit unlock ENV' (for maintenance, say)."""
    with handle_errors():
        config, env = _environment(environment)
        with _opened(config, env) as target:
            target.hold(f"manual: {reason}")
        say(f"locked {env.name} ({target.namespace}): {reason}")


def unlock(
    environment: EnvArg,
    yes: YesOpt = False,
) -> None:
    """Release ENV's deploy lock (a stale one left by a killed run, say)."""
    with handle_errors():
        from relkit.errors import RelkitError

        config, env = _environment(environment)
        with _opened(config, env) as target:
            current = target.lock_info()
            if current is None:
                say(f"{env.name} is not locked")
                return
            alive = current.lease is not None and current.stale_reason() is None
            if alive and not yes:
                if not sys.stdin.isatty():
                    raise RelkitError(
                        f"the holder looks alive: {current.describe()}",
                        "pass --yes to remove the lock anyway",
                    )
                question = f"{current.describe()} looks alive. Remove its lock?"
                if not typer.confirm(question, err=True):
                    raise RelkitError("lock kept")
            target.force_unlock()
        say(f"unlocked {env.name} (was: {current.describe()})")
