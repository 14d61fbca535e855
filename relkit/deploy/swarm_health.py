"""Convergence of a swarm stack after ``docker stack deploy``.

``docker stack deploy`` returns as soon as the services' specs are written; the
update itself runs in the managers. relkit watches each service until:

* its ``UpdateStatus`` is ``completed`` (or there is no update: a new service,
  or a spec that did not change), and
* every task swarm wants running runs the spec's image, and a replicated
  service has all its replicas running (with a healthcheck, swarm reports a
  task ``running`` only once it is healthy).

``paused``, ``rollback_started``, ``rollback_paused`` and ``rollback_completed``
are failures — the docker CLI exits 0 after a swarm rollback (docker/cli#6752),
relkit does not. An ``UpdateStatus`` that was already there before this
rollout (same ``StartedAt``) describes an earlier update and is not held
against this one. A new service whose tasks keep failing (no update, so no
swarm rollback) fails after a few attempts instead of waiting for the timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from relkit.deploy.compose import StepFailed
from relkit.deploy.stackfile import FAILED_UPDATE_STATES
from relkit.docker.swarm import ServiceState, TaskState

FAILED_TASK_STATES = ("failed", "rejected")
MAX_TASK_FAILURES = 3


@dataclass(frozen=True)
class Baseline:
    """What a service looked like before the rollout."""

    update_started: str | None
    task_ids: frozenset[str]


def baseline(services: Sequence[ServiceState]) -> dict[str, Baseline]:
    return {
        s.service: Baseline(s.update_started, frozenset(t.id for t in s.tasks)) for s in services
    }


def _new_failures(service: ServiceState, before: Baseline | None) -> list[TaskState]:
    seen = before.task_ids if before else frozenset()
    return [
        t
        for t in service.tasks
        if t.id not in seen and t.state in FAILED_TASK_STATES and t.image == service.image
    ]


def _reason(tasks: Sequence[TaskState]) -> str:
    for task in reversed(tasks):
        text = task.error or task.message
        if text:
            return text
    return ""


def service_verdict(service: ServiceState, before: Baseline | None, pin: str | None) -> str | None:
    """What *service* waits for (None: converged); raises StepFailed on a failure."""
    name = service.service
    fresh_update = before is None or service.update_started != before.update_started
    state = service.update_state
    failures = _new_failures(service, before)
    if state in FAILED_UPDATE_STATES and fresh_update:
        detail = service.update_message or _reason(failures)
        raise StepFailed(f"{name}: swarm update {state.replace('_', ' ')}: {detail}".rstrip(": "))
    if pin is not None and service.image != pin:
        raise StepFailed(f"{name}: the service runs {service.image}, not {pin} (changed meanwhile)")
    if service.mode.endswith("job"):
        return None
    current = [t for t in service.tasks if t.desired == "running"]
    good = [t for t in current if t.state == "running" and t.image == service.image]
    if len(failures) >= MAX_TASK_FAILURES and state is None:
        raise StepFailed(f"{name}: {len(failures)} tasks failed: {_reason(failures)}")
    want = service.replicas if service.replicas is not None else max(1, len(current))
    old = [t for t in current if t.image != service.image and t.state == "running"]
    pending = [t for t in current if t not in good]
    if state in ("updating", "rollback_started"):
        return f"{name}: {'update' if state == 'updating' else 'rollback'} in progress" + (
            f" ({len(good)}/{want} running)"
        )
    if len(good) < want or old or pending:
        text = f"{name}: {len(good)}/{want} running"
        if old:
            text += f", {len(old)} old task(s)"
        if pending:
            task = pending[0]
            text += f", {task.state}" + (f" ({task.error})" if task.error else "")
        return text
    return None


def verdict(
    services: Sequence[ServiceState],
    wanted: Sequence[str],
    before: Mapping[str, Baseline],
    pins: Mapping[str, str],
) -> list[str]:
    """Everything the stack still waits for; raises StepFailed on a failure."""
    by_name = {s.service: s for s in services}
    waiting = []
    for name in wanted:
        service = by_name.get(name)
        if service is None:
            waiting.append(f"{name}: no service yet")
            continue
        reason = service_verdict(service, before.get(name), pins.get(name))
        if reason is not None:
            waiting.append(reason)
    return waiting


def wait_converged(
    snapshot: Callable[[], Sequence[ServiceState]],
    wanted: Sequence[str],
    before: Mapping[str, Baseline],
    pins: Mapping[str, str],
    timeout: float,
    settle: float = 2.0,
    interval: float = 0.5,
    on_wait: Callable[[list[str]], None] | None = None,
) -> None:
    """Wait until the stack converged and stays so for *settle* seconds."""
    deadline = time.monotonic() + timeout
    good_since: float | None = None
    last: list[str] = []
    while True:
        waiting = verdict(snapshot(), wanted, before, pins)
        now = time.monotonic()
        if not waiting:
            good_since = good_since if good_since is not None else now
            if now - good_since >= settle:
                return
        else:
            good_since = None
            if waiting != last and on_wait is not None:
                on_wait(waiting)
            last = waiting
        if now > deadline:
            raise StepFailed(
                f"not converged within {timeout:g}s: {'; '.join(waiting) or 'did not settle'}"
            )
        time.sleep(interval)
