"""Swarm services, tasks and nodes, read through the SDK as small values.

Everything here talks to a swarm *manager* (only managers answer the services,
tasks, nodes and configs APIs). Stack services are found by the label
``com.docker.stack.namespace`` that ``docker stack deploy`` puts on them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from relkit.docker.client import engine_errors
from relkit.errors import DockerError

STACK_LABEL = "com.docker.stack.namespace"


@dataclass(frozen=True)
class TaskState:
    id: str
    slot: int | None
    node: str  # node id
    state: str  # new … starting, running, complete, failed, rejected, shutdown, …
    desired: str  # running, shutdown, complete, …
    image: str  # the image reference of the task's spec
    error: str
    message: str
    exit_code: int | None
    container_id: str


@dataclass(frozen=True)
class ServiceState:
    id: str
    name: str  # <stack>_<service>
    service: str  # the name in the compose file
    image: str  # the reference in the current spec
    mode: str  # replicated, global, replicated-job, global-job
    replicas: int | None
    update_state: str | None  # updating, paused, completed, rollback_started, …
    update_started: str | None
    update_message: str
    update_order: str | None
    has_healthcheck: bool
    tasks: tuple[TaskState, ...]


@dataclass(frozen=True)
class NodeState:
    id: str
    hostname: str
    role: str
    ready: bool  # status ready and availability active
    labels: dict[str, str]
    engine_labels: dict[str, str]
    os: str
    arch: str


def ensure_manager(client: Any) -> None:
    """Raise unless *client* talks to a swarm manager."""
    with engine_errors("asking the engine about its swarm"):
        info = client.info()
    swarm = info.get("Swarm") or {}
    if swarm.get("LocalNodeState") != "active" or not swarm.get("ControlAvailable"):
        raise DockerError(
            "the Docker engine is not a swarm manager"
            f" (swarm state: {swarm.get('LocalNodeState') or 'unknown'})",
            "point docker_host / DOCKER_HOST at a manager (ssh://user@manager), or run"
            " 'docker swarm init' on this engine",
        )


def manager_skew(client: Any) -> float:
    """Seconds to add to a manager timestamp to get this machine's clock."""
    with engine_errors("reading the manager's clock"):
        system_time = client.info().get("SystemTime", "")
    try:
        return time.time() - parse_time(system_time)
    except ValueError:
        return 0.0


def parse_time(text: str) -> float:
    """Epoch seconds of a swarm timestamp (RFC 3339 with nanoseconds)."""
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if "." in text:
        head, _, rest = text.partition(".")
        digits = "".join(c for c in rest if c.isdigit())
        zone = rest[len(digits) :]
        text = f"{head}.{digits[:6]}{zone}"
    return datetime.fromisoformat(text).timestamp()


def _task(raw: dict[str, Any]) -> TaskState:
    status = raw.get("Status") or {}
    container = status.get("ContainerStatus") or {}
    spec = (raw.get("Spec") or {}).get("ContainerSpec") or {}
    exit_code = container.get("ExitCode")
    return TaskState(
        id=raw.get("ID", ""),
        slot=raw.get("Slot"),
        node=raw.get("NodeID", ""),
        state=status.get("State", "unknown"),
        desired=raw.get("DesiredState", ""),
        image=spec.get("Image", ""),
        error=status.get("Err", ""),
        message=status.get("Message", ""),
        exit_code=int(exit_code) if exit_code is not None else None,
        container_id=container.get("ContainerID", ""),
    )


def _service(raw: dict[str, Any], stack: str, tasks: list[TaskState]) -> ServiceState:
    spec = raw.get("Spec") or {}
    container = (spec.get("TaskTemplate") or {}).get("ContainerSpec") or {}
    mode = spec.get("Mode") or {}
    kind = next(iter(mode), "replicated")
    replicas = None
    if kind == "Replicated":
        replicas = int((mode.get("Replicated") or {}).get("Replicas", 1))
    names = {
        "Replicated": "replicated",
        "Global": "global",
        "ReplicatedJob": "replicated-job",
        "GlobalJob": "global-job",
    }
    update = raw.get("UpdateStatus") or {}
    test = (container.get("Healthcheck") or {}).get("Test") or []
    name = spec.get("Name", "")
    prefix = f"{stack}_"
    return ServiceState(
        id=raw.get("ID", ""),
        name=name,
        service=name[len(prefix) :] if name.startswith(prefix) else name,
        image=container.get("Image", ""),
        mode=names.get(kind, kind.lower()),
        replicas=replicas,
        update_state=update.get("State"),
        update_started=update.get("StartedAt"),
        update_message=update.get("Message", ""),
        update_order=(spec.get("UpdateConfig") or {}).get("Order"),
        has_healthcheck=bool(test) and test[0] != "NONE",
        tasks=tuple(tasks),
    )


def stack_services(client: Any, stack: str) -> list[ServiceState]:
    """The services of *stack* with their tasks (every task swarm still remembers)."""
    with engine_errors(f"listing the services of stack {stack}"):
        raw_services = client.api.services(filters={"label": f"{STACK_LABEL}={stack}"})
        raw_tasks = client.api.tasks(filters={"label": f"{STACK_LABEL}={stack}"})
    by_service: dict[str, list[TaskState]] = {}
    for raw in raw_tasks:
        by_service.setdefault(raw.get("ServiceID", ""), []).append(_task(raw))
    services = [_service(s, stack, by_service.get(s.get("ID", ""), [])) for s in raw_services]
    return sorted(services, key=lambda s: s.service)


def container_health(client: Any, container_id: str) -> str | None:
    """The health of a task's container when it runs on the engine *client* talks to."""
    import docker.errors

    if not container_id:
        return None
    try:
        attrs = client.api.inspect_container(container_id)
    except (docker.errors.NotFound, docker.errors.APIError):
        return None  # on another node, or gone
    health = (attrs.get("State") or {}).get("Health") or {}
    status = health.get("Status")
    return str(status) if status else None


def nodes(client: Any) -> list[NodeState]:
    with engine_errors("listing the swarm's nodes"):
        raw_nodes = client.api.nodes()
    out = []
    for raw in raw_nodes:
        spec = raw.get("Spec") or {}
        description = raw.get("Description") or {}
        platform = description.get("Platform") or {}
        engine = description.get("Engine") or {}
        out.append(
            NodeState(
                id=raw.get("ID", ""),
                hostname=description.get("Hostname", ""),
                role=spec.get("Role", "worker"),
                ready=(raw.get("Status") or {}).get("State") == "ready"
                and spec.get("Availability", "active") == "active",
                labels=dict(spec.get("Labels") or {}),
                engine_labels=dict(engine.get("Labels") or {}),
                os=platform.get("OS", ""),
                arch=platform.get("Architecture", ""),
            )
        )
    return out


def image_healthcheck(client: Any, reference: str) -> dict[str, Any] | None:
    """The HEALTHCHECK baked into *reference*, when the image is on this engine."""
    import docker.errors

    try:
        attrs = client.api.inspect_image(reference)
    except (docker.errors.NotFound, docker.errors.APIError):
        return None
    check = (attrs.get("Config") or {}).get("Healthcheck")
    return dict(check) if check else None


def find_service(client: Any, name: str) -> ServiceState | None:
    stack = name.split("_", 1)[0]
    with engine_errors(f"looking up service {name}"):
        raw_services = client.api.services(filters={"name": name})
        match = [s for s in raw_services if (s.get("Spec") or {}).get("Name") == name]
        if not match:
            return None
        raw_tasks = client.api.tasks(filters={"service": match[0]["ID"]})
    return _service(match[0], stack, [_task(t) for t in raw_tasks])


def remove_service(client: Any, service_id: str) -> None:
    import docker.errors

    with engine_errors("removing a service"):
        try:
            client.api.remove_service(service_id)
        except docker.errors.NotFound:
            pass


def service_logs(client: Any, service_id: str, limit: int = 200) -> str:
    """The last *limit* lines a service's tasks printed (stdout and stderr)."""
    import docker.errors

    try:
        chunks = client.api.service_logs(
            service_id, stdout=True, stderr=True, follow=False, tail=limit
        )
        raw = b"".join(chunk if isinstance(chunk, bytes) else chunk.encode() for chunk in chunks)
    except (docker.errors.APIError, docker.errors.NotFound):
        return ""
    return raw.decode("utf-8", "replace")
