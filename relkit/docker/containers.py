"""What runs in a compose project, read through the Docker SDK."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from relkit.docker.client import engine_errors

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
ONEOFF_LABEL = "com.docker.compose.oneoff"


@dataclass(frozen=True)
class ContainerState:
    service: str
    name: str
    status: str  # created, running, restarting, exited, dead, paused
    health: str | None  # starting, healthy, unhealthy; None without a healthcheck
    restarts: int
    exit_code: int
    image_ref: str  # the reference the container was created from
    image_id: str
    repo_digests: tuple[str, ...]
    last_health_output: str = ""

    def runs(self, reference: str) -> bool:
        """Whether this container runs *reference* (``name@sha256:…`` or a tag)."""
        if self.image_ref == reference:
            return True
        if "@" in reference:
            return reference in self.repo_digests or any(
                d.split("@", 1)[1] == reference.split("@", 1)[1] for d in self.repo_digests
            )
        return False


def project_containers(client: Any, project: str) -> list[ContainerState]:
    """The long-running containers of a compose project (one-off runs excluded)."""
    with engine_errors(f"listing the containers of {project}"):
        found = client.containers.list(all=True, filters={"label": f"{PROJECT_LABEL}={project}"})
        states = []
        image_cache: dict[str, tuple[str, ...]] = {}
        for container in found:
            labels = container.labels or {}
            if labels.get(ONEOFF_LABEL, "False") == "True":
                continue
            attrs = container.attrs
            state = attrs.get("State", {})
            health = state.get("Health") or {}
            image_id = attrs.get("Image", "")
            if image_id not in image_cache:
                image_cache[image_id] = _repo_digests(client, image_id)
            log = health.get("Log") or []
            states.append(
                ContainerState(
                    service=labels.get(SERVICE_LABEL, "?"),
                    name=container.name,
                    status=state.get("Status", "unknown"),
                    health=health.get("Status"),
                    restarts=int(attrs.get("RestartCount", 0)),
                    exit_code=int(state.get("ExitCode", 0)),
                    image_ref=attrs.get("Config", {}).get("Image", ""),
                    image_id=image_id,
                    repo_digests=image_cache[image_id],
                    last_health_output=(log[-1].get("Output", "") if log else "").strip(),
                )
            )
    return sorted(states, key=lambda s: (s.service, s.name))


def _repo_digests(client: Any, image_id: str) -> tuple[str, ...]:
    import docker.errors

    try:
        return tuple(client.images.get(image_id).attrs.get("RepoDigests") or ())
    except docker.errors.ImageNotFound:
        return ()


def image_present(client: Any, reference: str) -> bool:
    import docker.errors

    with engine_errors(f"looking up {reference}"):
        try:
            client.images.get(reference)
            return True
        except docker.errors.ImageNotFound:
            return False
