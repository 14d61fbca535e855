"""Deploy and rollback of one environment (SPEC section 4), driver-independent.

lock → approval → pre-deploy hooks → migrate → rollout → health → smoke →
record → notify → unlock. A failure in rollout, health or smoke rolls back to
the previous good release through the same gates.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from relkit.config import Config, EnvironmentConfig
from relkit.deploy import records as rec
from relkit.deploy.compose import StepFailed
from relkit.deploy.records import ReleaseRecord
from relkit.errors import DeployFailed, RelkitError, RollbackFailed


class Reporter(Protocol):
    def step_started(self, name: str) -> None: ...
    def step_finished(self, name: str, seconds: float, detail: str = "") -> None: ...
    def step_failed(self, name: str, seconds: float, error: str) -> None: ...
    def info(self, text: str) -> None: ...
    def warn(self, text: str) -> None: ...


class Target(Protocol):
    """What a driver deploys to (compose project or swarm stack)."""

    namespace: str

    def records(self) -> list[ReleaseRecord]: ...
    def save(self, record: ReleaseRecord) -> None: ...
    def lock(self, purpose: str) -> TargetLock: ...
    def pin(self, pins: Mapping[str, str]) -> None: ...
    def run_once(self, service: str, env: Mapping[str, str]) -> str: ...
    def rollout(self, pins: Mapping[str, str], env: Mapping[str, str]) -> None: ...
    def wait_healthy(self, timeout: float, on_wait: Callable[[list[str]], None]) -> None: ...
    def close(self) -> None: ...


class TargetLock(Protocol):
    broken: str | None
    owned: bool  # False when running inside a parent's lock (RELKIT_LOCK_TOKEN)

    def env(self) -> dict[str, str]: ...
    def release(self) -> None: ...


@dataclass(frozen=True)
class Release:
    """A version and the exact images that make it."""

    version: str
    images: Mapping[str, str]  # image name -> name@sha256:…
    git_sha: str | None = None
    # Versions the images may report besides ``version``: a promoted release
    # runs the very images that were built and tested as its pre-release.
    reports: tuple[str, ...] = ()


@dataclass
class Run:
    """The bookkeeping of one deploy or rollback."""

    reporter: Reporter
    durations: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        self.reporter.step_started(name)
        start = time.monotonic()
        try:
            yield
        except BaseException as exc:
            seconds = time.monotonic() - start
            self.durations[name] = round(seconds, 3)
            message = str(exc) if isinstance(exc, RelkitError) else type(exc).__name__
            self.reporter.step_failed(name, seconds, message)
            raise
        seconds = time.monotonic() - start
        self.durations[name] = round(seconds, 3)
        self.reporter.step_finished(name, seconds)


Approver = Callable[[str], str]


def pins_for(config: Config, release: Release) -> dict[str, str]:
    """service -> pinned image, from ``[[images]].services``."""
    pins: dict[str, str] = {}
    for image in config.images:
        ref = release.images.get(image.name)
        if ref is None:
            continue
        for service in image.services:
            pins[service] = ref
    return pins


def _summary(
    kind: str, env: EnvironmentConfig, release: Release, previous: ReleaseRecord | None
) -> str:
    old = previous.version if previous else "nothing"
    return f"{kind} {env.name}: {old} → {release.version}"


def _mark_interrupted(target: Target, records: list[ReleaseRecord], reporter: Reporter) -> None:
    for record in records:
        if record.outcome == rec.IN_PROGRESS:
            record.outcome = rec.INTERRUPTED
            record.finished_at = rec.now_iso()
            record.error = "relkit stopped before this run finished (its lock went stale)"
            target.save(record)
            reporter.warn(
                f"an earlier {record.kind} of {record.version} by {record.who} at"
                f" {record.started_at} never finished; this run converges the stack"
            )


def execute(
    config: Config,
    env: EnvironmentConfig,
    target: Target,
    release: Release,
    reporter: Reporter,
    *,
    kind: str = rec.DEPLOY,
    approve: Approver | None = None,
    rollback: bool = True,
    restore_backup: str | None = None,
    who: str = "unknown",
    notify: Callable[[ReleaseRecord], list[str]] | None = None,
) -> ReleaseRecord:
    """Deploy (or roll back to) *release* on *target*; return the final record.

    Raises DeployFailed (3) when a failure was rolled back, RollbackFailed (4)
    when the rollback failed too, or another RelkitError (1) when the deploy
    failed before anything was rolled out.
    """
    run = Run(reporter)
    with run.step("lock"):
        lock = target.lock(f"{kind} {release.version}")
    if lock.broken:
        reporter.warn(lock.broken)
    record: ReleaseRecord | None = None
    try:
        records = target.records()
        if lock.owned:  # inside a parent's lock, its in-progress record is not ours to judge
            _mark_interrupted(target, records, reporter)
        previous = rec.current(records)
        approval = None
        if approve is not None:
            with run.step("approval"):
                approver = approve(_summary(kind, env, release, previous))
            approval = {"by": approver, "at": rec.now_iso()}
        started = rec.now_iso()
        record = ReleaseRecord(
            id=rec.new_id(started, release.version),
            environment=env.name,
            namespace=target.namespace,
            kind=kind,
            version=release.version,
            images=dict(release.images),
            git_sha=release.git_sha,
            who=who,
            started_at=started,
            previous=previous.id if previous else None,
            previous_version=previous.version if previous else None,
            approval=approval,
            rollback=rollback,
            host=socket.gethostname(),
            reports=list(release.reports),
        )
        target.save(record)
        child_env = {
            **lock.env(),
            "RELKIT_VERSION": release.version,
            "RELKIT_ENVIRONMENT": env.name,
        }
        try:
            target.pin(pins_for(config, release))  # one-off jobs run the new images
            if kind == rec.DEPLOY:
                _before_rollout(env, target, run, record, child_env)
            elif restore_backup is not None:
                if not env.restore:
                    raise RelkitError(
                        f"environment {env.name} has no restore service",
                        'set restore = "<service>" in its config',
                    )
                with run.step("restore"):
                    target.run_once(
                        env.restore, {**child_env, "RELKIT_BACKUP_NAME": restore_backup}
                    )
                record.backup = restore_backup
        except RelkitError as exc:
            record.outcome = rec.FAILED
            record.error = str(exc)
            raise
        try:
            _rollout(config, env, target, run, release, child_env)
        except RelkitError as exc:
            record.error = str(exc)
            if not rollback or previous is None:
                record.outcome = rec.FAILED if not rollback else rec.ROLLBACK_FAILED
                if not rollback:
                    raise RelkitError(
                        f"{kind} of {release.version} to {env.name} failed: {exc}",
                        "not rolled back (--no-rollback): the stack runs the failed release",
                    ) from None
                raise RollbackFailed(
                    f"{kind} of {release.version} to {env.name} failed: {exc}",
                    "there is no earlier good release to roll back to: the stack needs a person"
                    " (relkit status " + env.name + ")",
                ) from None
            reporter.warn(f"{kind} failed: {exc}; rolling back to {previous.version}")
            good = Release(
                previous.version, previous.images, previous.git_sha, tuple(previous.reports)
            )
            rollback_started = rec.now_iso()
            try:
                with run.step("rollback"):
                    _rollout(config, env, target, Run(reporter), good, child_env)
            except RelkitError as again:
                record.outcome = rec.ROLLBACK_FAILED
                raise RollbackFailed(
                    f"{kind} of {release.version} failed ({exc}) and the rollback to"
                    f" {previous.version} failed too ({again})",
                    f"the stack needs a person: see 'relkit status {env.name}'",
                ) from None
            record.outcome = rec.ROLLED_BACK
            record.rolled_back_to = previous.id
            _record_restore(
                target, env, previous, record, who, rollback_started, run.durations["rollback"]
            )
            raise DeployFailed(
                f"{kind} of {release.version} to {env.name} failed: {exc}",
                f"rolled back to {previous.version}, which is healthy",
            ) from None
        record.outcome = rec.SUCCEEDED
        return record
    finally:
        if record is not None:
            if record.finished_at is None:
                record.finished_at = rec.now_iso()
            if record.outcome == rec.IN_PROGRESS:
                record.outcome = rec.FAILED
                record.error = record.error or "interrupted"
            record.durations = dict(run.durations)
            try:
                target.save(record)
            except RelkitError as exc:
                reporter.warn(f"could not save the release record: {exc}")
            if notify is not None:
                for warning in notify(record):
                    reporter.warn(warning)
        lock.release()


def _before_rollout(
    env: EnvironmentConfig,
    target: Target,
    run: Run,
    record: ReleaseRecord,
    child_env: dict[str, str],
) -> None:
    """Backup and migrate, with the images of the release about to roll out (pinned)."""
    if env.pre_deploy:
        backup = f"relkit-{record.id}"
        with run.step("pre-deploy"):
            for service in env.pre_deploy:
                target.run_once(service, {**child_env, "RELKIT_BACKUP_NAME": backup})
        record.backup = backup
        target.save(record)
    if env.migrate:
        with run.step("migrate"):
            target.run_once(env.migrate, child_env)
        record.migrated = True
        target.save(record)


def _rollout(
    config: Config,
    env: EnvironmentConfig,
    target: Target,
    run: Run,
    release: Release,
    child_env: dict[str, str],
) -> None:
    from relkit.deploy.smoke import run_smoke

    with run.step("rollout"):
        target.rollout(pins_for(config, release), {**child_env, "RELKIT_VERSION": release.version})
    with run.step("health"):
        target.wait_healthy(
            env.health_timeout,
            lambda waiting: run.reporter.info("waiting: " + "; ".join(waiting)),
        )
    if env.smoke:
        with run.step("smoke"):
            run_smoke(
                env.smoke,
                release.version,
                on_retry=lambda m: run.reporter.info(m),
                also=release.reports,
            )


def _record_restore(
    target: Target,
    env: EnvironmentConfig,
    good: ReleaseRecord,
    failed: ReleaseRecord,
    who: str,
    started: str,
    seconds: float,
) -> None:
    """The automatic rollback is a release of its own: the good version runs again."""
    now = rec.now_iso()
    target.save(
        ReleaseRecord(
            id=rec.new_id(now, good.version),
            environment=env.name,
            namespace=target.namespace,
            kind=rec.ROLLBACK,
            version=good.version,
            images=dict(good.images),
            git_sha=good.git_sha,
            who=f"{who} (automatic rollback of {failed.version})",
            started_at=started,
            finished_at=now,
            durations={"rollback": seconds},
            outcome=rec.SUCCEEDED,
            previous=failed.id,
            previous_version=failed.version,
            host=socket.gethostname(),
            reports=list(good.reports),
        )
    )


__all__ = ["Release", "Reporter", "StepFailed", "Target", "execute", "pins_for"]
