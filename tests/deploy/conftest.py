"""Fixtures for deploy tests: a throw-away compose stack and versions of a web image.

``make_stack(...)`` writes a git repository with relkit.toml and docker-compose.yml
(one ``web`` service on a free host port, optional one-off services on a named
volume) and returns a :class:`Stack` that runs relkit against it. ``stack.build``
builds a busybox web image for a version and pushes it to the test registry, so
the local image gets the RepoDigest that relkit pins.

Everything is removed afterwards: the compose project (``down -v``), the images,
a lock container left behind and the project's records in the ``relkit-state``
volume.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest
from typer.testing import CliRunner

from tests.conftest import GitRepo, git
from tests.docker_support import DockerLabel
from tests.relkit_process import run_relkit, start_relkit
from tests.web_image import (
    GOOD,
    SLOW,
    SLOW_DELAY,
    START_SH,
    WEB_DOCKERFILE,
    WRONG_VERSION,
    context_tar,
    free_port,
    http_get,
    push_pinned,
)

ENV = "staging"


@dataclass
class Stack:
    """One throw-away stack: repo, compose project, image repository, host port."""

    root: Path
    project: str
    port: int
    image: str  # repository, e.g. 127.0.0.1:5000/relkit-test-abc/web
    client: docker.DockerClient
    label: DockerLabel
    base_image: str
    built: dict[str, str] = field(default_factory=dict)  # version -> name@digest

    # -- images -------------------------------------------------------------

    def context_files(self, version: str, mode: str) -> dict[str, str]:
        """The web image's build context for *mode* (see tests/web_image.py)."""
        reported = version if mode != WRONG_VERSION else f"{version}-wrong"
        files = {
            "Dockerfile": WEB_DOCKERFILE.format(
                base=self.base_image,
                label_key=self.label.key,
                label_value=self.label.value,
                start_period=" --start-period=30s" if mode == SLOW else "",
            ),
            "start.sh": START_SH.format(delay=SLOW_DELAY if mode == SLOW else ""),
            "www/version": json.dumps({"version": reported}) + "\n",
        }
        if mode in (GOOD, WRONG_VERSION):
            files["www/health"] = "ok\n"
        return files

    def build(self, version: str, mode: str = GOOD, push: bool = True) -> str:
        """Build (and push) ``image:version``; return its pinned ``name@sha256:…``."""
        files = self.context_files(version, mode)
        tag = f"{self.image}:{version}"
        labels = {  # as `relkit build` labels its images: deploys read them back
            "org.opencontainers.image.version": version,
            "org.opencontainers.image.revision": self.git_sha,
        }
        self.client.images.build(
            fileobj=context_tar(files), custom_context=True, tag=tag, rm=True, labels=labels
        )
        if not push:
            return tag
        pinned = push_pinned(self.client, self.image, version)
        self.built[version] = pinned
        return pinned

    @property
    def git_sha(self) -> str:
        return git(self.root, "rev-parse", "HEAD")

    def promote(self, built_as: str, version: str) -> str:
        """Tag the pushed image of *built_as* as *version* (what ``relkit release`` does)."""
        image = self.client.images.get(f"{self.image}:{built_as}")
        image.tag(self.image, tag=version)
        output = self.client.images.push(self.image, tag=version)
        assert '"error"' not in output, output
        self.built[version] = self.built[built_as]
        return self.built[version]

    # -- running relkit -----------------------------------------------------

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "NO_COLOR")}
        env.update(extra)
        return env

    def run(
        self, *args: str, timeout: float = 90, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``python -m relkit ARGS`` as a real process in the repository."""
        return run_relkit(self.root, args, env or self.env(), timeout)

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return start_relkit(self.root, args, self.env())

    def invoke(self, *args: str, env: dict[str, str] | None = None) -> Any:
        """The CLI in-process (CliRunner, exceptions propagate); cwd is the repo."""
        from relkit.cli import app

        previous = Path.cwd()
        os.chdir(self.root)
        try:
            return CliRunner().invoke(app, list(args), catch_exceptions=False, env=env)
        finally:
            os.chdir(previous)

    def deploy(self, version: str, *extra: str) -> subprocess.CompletedProcess[str]:
        return self.run("deploy", ENV, "--version", version, *extra)

    def history(self) -> list[dict[str, Any]]:
        result = self.invoke("history", ENV, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def status(self) -> dict[str, Any]:
        result = self.invoke("status", ENV, "--json")
        return json.loads(result.stdout)

    # -- looking at the stack ------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/version"

    def served_version(self) -> str | None:
        """What /version answers now, or None when nothing answers."""
        try:
            status, body = http_get(self.url, timeout=1)
        except (urllib.error.URLError, OSError):
            return None
        return json.loads(body)["version"] if status == 200 else None

    def web_containers(self) -> list[Any]:
        return self.client.containers.list(
            all=True,
            filters={
                "label": [
                    f"com.docker.compose.project={self.project}",
                    "com.docker.compose.service=web",
                ]
            },
        )

    def web_image(self) -> str:
        """The image reference the (single) web container was created from."""
        containers = self.web_containers()
        assert len(containers) == 1, [c.name for c in containers]
        return str(containers[0].attrs["Config"]["Image"])

    def compose(self, *args: str, files: Sequence[str] = ()) -> subprocess.CompletedProcess[str]:
        command = ["docker-compose", "-p", self.project, "-f", "docker-compose.yml"]
        for name in files:
            command += ["-f", name]
        return subprocess.run(
            [*command, *args],
            cwd=self.root,
            env=self.env(),
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
            check=False,
        )

    def volume_files(self) -> dict[str, str]:
        """The files of the project's ``data`` volume, read through the archive API of a
        created (never started) container: logs of a short-lived ``tar`` can be cut off."""
        container = self.client.containers.create(
            self.base_image,
            ["true"],
            volumes={f"{self.project}_data": {"bind": "/data", "mode": "ro"}},
            labels=self.label.labels,
            network_disabled=True,
        )
        try:
            stream, _ = container.get_archive("/data")
            raw = b"".join(stream)
        finally:
            container.remove(force=True)
        files = {}
        with tarfile.open(fileobj=io.BytesIO(raw)) as archive:
            for member in archive.getmembers():
                handle = archive.extractfile(member) if member.isfile() else None
                if handle is not None:
                    files[member.name.removeprefix("data/")] = handle.read().decode()
        return files

    def lock_container(self) -> Any | None:
        try:
            return self.client.containers.get(f"relkit-lock-{self.project}")
        except docker.errors.NotFound:
            return None

    def _leftovers(self) -> bool:
        """Whether the compose project left containers, networks or volumes."""
        selector = {"label": f"com.docker.compose.project={self.project}"}
        return bool(
            self.client.containers.list(all=True, filters=selector)
            or self.client.networks.list(filters=selector)
            or self.client.volumes.list(filters=selector)
        )

    def _has_records(self) -> bool:
        try:
            self.client.containers.get("relkit-state").get_archive(f"/state/{self.project}")
        except docker.errors.NotFound:
            return False
        return True

    def cleanup(self) -> None:
        if self._leftovers():
            down = self.compose("down", "-v", "--remove-orphans", "-t", "2")
            assert down.returncode == 0, down.stderr
        lock = self.lock_container()
        if lock is not None:
            lock.remove(force=True)
        # A volume that `volume_files` created because the project never made it.
        for volume in self.client.volumes.list(filters={"name": f"{self.project}_"}):
            with contextlib.suppress(docker.errors.NotFound):
                volume.remove(force=True)
        for image in self.client.images.list(name=self.image):
            with contextlib.suppress(docker.errors.NotFound):
                self.client.images.remove(image.id, force=True)
        # The project's records in relkit's state volume (other namespaces stay).
        if self._has_records():
            self.client.containers.run(
                self.base_image,
                ["rm", "-rf", f"/state/{self.project}"],
                volumes={"relkit-state": {"bind": "/state", "mode": "rw"}},
                labels=self.label.labels,
                network_disabled=True,
                remove=True,
            )


def relkit_toml(
    image: str,
    project: str,
    port: int,
    *,
    approval: bool = False,
    notify: Sequence[str] = (),
    one_offs: bool = False,
    health_timeout: int = 20,
) -> str:
    lines = [
        "[[images]]",
        f'name = "{image}"',
        'services = ["web"]',
        "",
        f"[environments.{ENV}]",
        'driver = "compose"',
        f'project = "{project}"',
        'compose_files = ["docker-compose.yml"]',
        f"health_timeout = {health_timeout}",
        "smoke = [",
        f'  {{ url = "http://127.0.0.1:{port}/version", json = {{ version = "{{version}}" }},'
        " retries = 3 },",
        "]",
    ]
    if approval:
        lines.append("approval = true")
    if notify:
        lines.append("notify = [" + ", ".join(json.dumps(u) for u in notify) + "]")
    if one_offs:
        lines += ['pre_deploy = ["backup"]', 'migrate = "migrate"', 'restore = "restore"']
    return "\n".join(lines) + "\n"


# One-off services on the named volume `data`:
#   backup  copies the schema file to backups/$RELKIT_BACKUP_NAME
#   migrate appends $RELKIT_VERSION to the schema file
#   restore copies backups/$RELKIT_BACKUP_NAME back and notes which one it used
ONE_OFFS = """\
  backup:
    image: "{base}"
    command: ["sh", "-c", "mkdir -p /data/backups && cat /data/schema > /data/backups/$$RELKIT_BACKUP_NAME 2>/dev/null || : > /data/backups/$$RELKIT_BACKUP_NAME"]
    volumes: ["data:/data"]
    labels: {{ {label_key}: "{label_value}" }}
  migrate:
    image: "{base}"
    command: ["sh", "-c", "echo $$RELKIT_VERSION >> /data/schema"]
    volumes: ["data:/data"]
    labels: {{ {label_key}: "{label_value}" }}
  restore:
    image: "{base}"
    command: ["sh", "-c", "cp /data/backups/$$RELKIT_BACKUP_NAME /data/schema && echo $$RELKIT_BACKUP_NAME > /data/restored-from"]
    volumes: ["data:/data"]
    labels: {{ {label_key}: "{label_value}" }}
volumes:
  data:
    labels: {{ {label_key}: "{label_value}" }}
"""  # noqa: E501


def compose_yml(image: str, port: int, label: DockerLabel, base: str, one_offs: bool) -> str:
    text = (
        'version: "3.8"\n'
        "services:\n"
        "  web:\n"
        f'    image: "{image}:placeholder"\n'
        "    ports:\n"
        f'      - "127.0.0.1:{port}:8080"\n'
        "    stop_grace_period: 3s\n"
        f'    labels: {{ {label.key}: "{label.value}" }}\n'
    )
    if one_offs:
        text += ONE_OFFS.format(base=base, label_key=label.key, label_value=label.value)
    return text


StackFactory = Callable[..., Stack]


@pytest.fixture
def make_stack(
    make_repo: GitRepo,
    docker_client: docker.DockerClient,
    docker_label: DockerLabel,
    busybox_image: str,
    registry: str,
) -> Iterator[StackFactory]:
    """Factory for one throw-away stack per test (options: see :func:`relkit_toml`)."""
    stacks: list[Stack] = []

    def make(**options: Any) -> Stack:
        assert not stacks, "one stack per test"
        uid = uuid.uuid4().hex[:10]
        image = f"{registry}/relkit-test-{uid}/web"
        project = f"relkit-t-{uid}"
        port = free_port()
        one_offs = bool(options.get("one_offs"))
        root = make_repo(
            {
                "VERSION": "1.0.0\n",
                "relkit.toml": relkit_toml(image, project, port, **options),
                "docker-compose.yml": compose_yml(
                    image, port, docker_label, busybox_image, one_offs
                ),
            }
        )
        stack = Stack(root, project, port, image, docker_client, docker_label, busybox_image)
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        stack.cleanup()


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
