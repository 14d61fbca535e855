"""The health gate: every service healthy (or running) and staying so."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from relkit.deploy.compose import StepFailed
from relkit.docker.containers import ContainerState


def verdict(states: Sequence[ContainerState], services: Sequence[str]) -> tuple[bool, list[str]]:
    """(all good, what each service is waiting for); raises StepFailed on a final failure."""
    waiting: list[str] = []
    by_service: dict[str, list[ContainerState]] = {s: [] for s in services}
    for state in states:
        if state.service in by_service:
            by_service[state.service].append(state)
    for service, containers in by_service.items():
        if not containers:
            waiting.append(f"{service}: no container yet")
            continue
        for c in containers:
            if c.status in ("exited", "dead"):
                raise StepFailed(f"{service} ({c.name}) {c.status} with code {c.exit_code}")
            if c.health == "unhealthy":
                detail = f": {c.last_health_output[:200]}" if c.last_health_output else ""
                raise StepFailed(f"{service} ({c.name}) is unhealthy{detail}")
            if c.status == "restarting":
                raise StepFailed(f"{service} ({c.name}) is restarting (crash loop)")
            if c.status != "running":
                waiting.append(f"{service}: {c.status}")
            elif c.health == "starting":
                waiting.append(f"{service}: health starting")
    return not waiting, waiting


def wait_healthy(
    snapshot: Callable[[], Sequence[ContainerState]],
    services: Sequence[str],
    timeout: float,
    settle: float = 2.0,
    interval: float = 0.25,
    on_wait: Callable[[list[str]], None] | None = None,
) -> None:
    """Wait until every service is healthy and stays so for *settle* seconds."""
    deadline = time.monotonic() + timeout
    good_since: float | None = None
    restarts: dict[str, int] = {}
    last_waiting: list[str] = []
    while True:
        states = snapshot()
        ok, waiting = verdict(states, services)
        for c in states:
            if c.name in restarts and c.restarts > restarts[c.name]:
                raise StepFailed(f"{c.service} ({c.name}) restarted while settling")
            restarts.setdefault(c.name, c.restarts)
        now = time.monotonic()
        if ok:
            good_since = good_since if good_since is not None else now
            if now - good_since >= settle:
                return
        else:
            good_since = None
            if waiting != last_waiting and on_wait is not None:
                on_wait(waiting)
            last_waiting = waiting
        if now > deadline:
            raise StepFailed(
                f"not healthy within {timeout:g}s: {'; '.join(waiting) or 'did not settle'}"
            )
        time.sleep(interval)
