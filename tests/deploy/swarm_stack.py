"""Fixtures for swarm driver tests: a single-node swarm and a throw-away stack.

``swarm_manager`` makes the test engine a swarm manager. The engine is shared
with other test sessions that use compose (a swarm manager still runs compose
projects), so: when the engine is not a manager yet, the fixture runs
``docker swarm init --advertise-addr 127.0.0.1`` and, at the end of the
session, leaves the swarm again only if no service is left in it (another
session may have started using the swarm meanwhile); when the engine already
was a manager, the fixture never leaves it.

``make_swarm_stack(...)`` writes a repository whose staging environment uses
``driver = "swarm"``: a ``web`` service publishing a free port in host mode
(the ingress routing mesh does not work on this machine) and optionally a
``worker`` with its own healthcheck (no port, so it updates start-first). The
stack, its records and its lock (swarm configs) are removed afterwards.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import docker
import docker.errors
import pytest

from relkit.docker.swarm_state import SwarmStore, lock_config_name
from tests.conftest import GitRepo
from tests.deploy.conftest import ENV, Stack
from tests.docker_support import DockerLabel
from tests.web_image import (
    free_port,
)

WORKER_BROKEN = "worker-broken"  # web healthy, the worker's healthcheck fails
CRASH = "crash"  # the process exits 1 at once


@pytest.fixture(scope="session")
def swarm_manager(docker_client: docker.DockerClient) -> Iterator[None]:
    swarm = docker_client.info().get("Swarm") or {}
    created = False
    if swarm.get("LocalNodeState") != "active":
        subprocess.run(
            ["docker", "swarm", "init", "--advertise-addr", "127.0.0.1"],
            check=True,
            capture_output=True,
        )
        created = True
    elif not swarm.get("ControlAvailable"):
        pytest.fail("the test engine is a swarm worker, not a manager", pytrace=False)
    yield
    if created and not docker_client.services.list():
        subprocess.run(["docker", "swarm", "leave", "--force"], check=False, capture_output=True)


class SwarmStack(Stack):
    """A :class:`Stack` whose environment deploys with the swarm driver."""

    def context_files(self, version: str, mode: str) -> dict[str, str]:
        """Also a web process that crashes, and a worker whose health file is missing."""
        files = super().context_files(version, mode)
        if mode == CRASH:
            files["start.sh"] = "echo boom; exit 1\n"
        if mode == WORKER_BROKEN:
            files["www/health"] = "ok\n"
        else:
            files["www/worker-health"] = "ok\n"
        return files

    def service(self, name: str = "web") -> dict[str, Any]:
        return dict(self.client.api.inspect_service(f"{self.project}_{name}"))

    def service_image(self, name: str = "web") -> str:
        return str(self.service(name)["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"])

    def web_image(self) -> str:
        return self.service_image("web")

    def lock_container(self) -> Any | None:
        name = lock_config_name(self.project)
        found = self.client.api.configs(filters={"name": name})
        return next((c for c in found if c["Spec"]["Name"] == name), None)

    def cleanup(self) -> None:
        subprocess.run(["docker", "stack", "rm", self.project], capture_output=True, check=False)
        deadline = time.monotonic() + 60
        selector = {"label": f"com.docker.stack.namespace={self.project}"}
        while time.monotonic() < deadline:
            if not (
                self.client.services.list(filters=selector)
                or self.client.containers.list(all=True, filters=selector)
                or self.client.networks.list(filters=selector)
            ):
                break
            time.sleep(0.5)
        # Finished job tasks can keep their containers after the stack is gone; they hold
        # the stack's volumes, so they go first.
        for container in self.client.containers.list(all=True, filters=selector):
            with contextlib.suppress(docker.errors.APIError):
                container.remove(force=True)
        for volume in self.client.volumes.list(filters=selector):
            with contextlib.suppress(docker.errors.APIError):
                volume.remove(force=True)
        SwarmStore(self.client).remove_all(self.project)
        lock = self.lock_container()
        if lock is not None:
            with contextlib.suppress(docker.errors.NotFound):
                self.client.api.remove_config(lock["ID"])
        for image in self.client.images.list(name=self.image):
            with contextlib.suppress(docker.errors.APIError):
                self.client.images.remove(image.id, force=True)


def swarm_toml(image: str, stack: str, port: int, *, worker: bool, one_offs: bool) -> str:
    services = '["web", "worker"]' if worker else '["web"]'
    lines = [
        "[[images]]",
        f'name = "{image}"',
        f"services = {services}",
        "",
        f"[environments.{ENV}]",
        'driver = "swarm"',
        f'stack = "{stack}"',
        'compose_files = ["docker-compose.yml"]',
        # Swarm on one node with a host-mode port sometimes holds a rollback for
        # about a minute (docs/swarm.md); the gate must outlast that.
        "health_timeout = 120",
        "smoke = [",
        f'  {{ url = "http://127.0.0.1:{port}/version", json = {{ version = "{{version}}" }},'
        " retries = 5 },",
        "]",
    ]
    if one_offs:
        lines += ['pre_deploy = ["backup"]', 'migrate = "migrate"']
    return "\n".join(lines) + "\n"


def swarm_compose(
    image: str, port: int, label: DockerLabel, base: str, *, worker: bool, one_offs: bool
) -> str:
    labels = f'{{ {label.key}: "{label.value}" }}'
    text = (
        'version: "3.8"\n'
        "services:\n"
        "  web:\n"
        f'    image: "{image}:placeholder"\n'
        "    ports:\n"
        "      - target: 8080\n"
        f"        published: {port}\n"
        "        protocol: tcp\n"
        "        mode: host\n"
        "    stop_grace_period: 3s\n"
        f"    labels: {labels}\n"
        "    mem_limit: 64m\n"  # compose-only: relkit drops it for swarm (with a note)
        "    deploy:\n"
        f"      labels: {labels}\n"
    )
    if worker:
        text += (
            "  worker:\n"
            f'    image: "{image}:placeholder"\n'
            "    stop_grace_period: 3s\n"
            "    healthcheck:\n"
            '      test: ["CMD", "wget", "-q", "-O", "/dev/null",'
            ' "http://127.0.0.1:8080/worker-health"]\n'
            "      interval: 1s\n"
            "      timeout: 1s\n"
            "      retries: 2\n"
            f"    labels: {labels}\n"
        )
    if one_offs:
        text += (
            "  backup:\n"
            f'    image: "{base}"\n'
            '    profiles: ["jobs"]\n'
            '    command: ["sh", "-c", "echo backup $$RELKIT_BACKUP_NAME;'
            ' echo backup >> /data/log"]\n'
            '    volumes: ["data:/data"]\n'
            "  migrate:\n"
            f'    image: "{base}"\n'
            '    profiles: ["jobs"]\n'
            '    command: ["sh", "-c", "echo migrate to $$RELKIT_VERSION;'
            ' echo migrate $$RELKIT_VERSION >> /data/log"]\n'
            '    volumes: ["data:/data"]\n'
            "volumes:\n"
            "  data:\n"
        )
    return text


@pytest.fixture
def make_swarm_stack(
    make_repo: GitRepo,
    docker_client: docker.DockerClient,
    docker_label: DockerLabel,
    busybox_image: str,
    registry: str,
    swarm_manager: None,
) -> Iterator[Any]:
    stacks: list[SwarmStack] = []

    def make(*, worker: bool = False, one_offs: bool = False) -> SwarmStack:
        assert not stacks, "one stack per test"
        uid = uuid.uuid4().hex[:10]
        image = f"{registry}/relkit-test-{uid}/web"
        name = f"relkit-s-{uid}"
        port = free_port()
        root = make_repo(
            {
                "VERSION": "1.0.0\n",
                "relkit.toml": swarm_toml(image, name, port, worker=worker, one_offs=one_offs),
                "docker-compose.yml": swarm_compose(
                    image, port, docker_label, busybox_image, worker=worker, one_offs=one_offs
                ),
            }
        )
        stack = SwarmStack(root, name, port, image, docker_client, docker_label, busybox_image)
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        stack.cleanup()
