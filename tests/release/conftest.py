"""Fixtures for ``relkit release`` tests: a repository with a real remote and two stacks.

``release_repo()`` writes a git repository (VERSION 1.0.0, a Keep a Changelog
CHANGELOG.md, a Dockerfile that ``relkit build`` builds from the busybox image,
relkit.toml with one image and the environments staging and production on
compose projects of their own) with a bare ``origin`` that has ``main``. It
returns a :class:`ReleaseRepo` that runs ``python -m relkit`` in it and looks
at what a release changed: git, the remote, the registry, both stacks, the
journal.

Everything is removed afterwards: both compose projects (``down -v``), their
lock containers and records, and every image of the repository.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest

from tests.conftest import git
from tests.docker_support import DockerLabel
from tests.relkit_process import run_relkit, start_relkit
from tests.web_image import free_port

ENVS = ("staging", "production")
RELEASE_SUBJECT = "chore(release): {version}"

DOCKERFILE = """\
ARG BASE
FROM ${{BASE}}
ARG VERSION
ENV APP_VERSION=$VERSION
LABEL {label_key}={label_value}
RUN mkdir -p /www && printf '{{"version": "%s"}}\\n' "$VERSION" > /www/version \\
 && echo ok > /www/health
EXPOSE 8080
HEALTHCHECK --interval=1s --timeout=1s --retries=2 \\
  CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/health"]
CMD ["sh", "-c", "httpd -f -p 8080 -h /www & pid=$!; trap \\"kill $pid; exit 0\\" TERM; wait"]
"""

CHANGELOG = """\
# Changelog

All notable changes to this project are documented in this file.

## [Unreleased]

### Added

- A version endpoint that says which release runs.

## [1.0.0] - 2024-01-02

### Added

- The first release.
"""

BASE_COMPOSE = """\
services:
  web:
    image: "{image}:placeholder"
    stop_grace_period: 3s
    labels: {{ {label_key}: "{label_value}" }}
"""

ENV_COMPOSE = """\
services:
  web:
    ports:
      - "127.0.0.1:{port}:8080"
"""

# Production only: the healthcheck fails for one version (the image is the same
# everywhere; the previous version stays healthy so that the rollback works).
BREAK_HEALTH = """\
    healthcheck:
      test: ["CMD-SHELL", "test \\"$$APP_VERSION\\" != {version} && wget -q -O /dev/null http://127.0.0.1:8080/health"]
      interval: 1s
      timeout: 1s
      retries: 1
"""


def relkit_toml(
    image: str,
    base_image: str,
    projects: dict[str, str],
    ports: dict[str, str | int],
    *,
    checks: Sequence[str] = (),
    health_timeout: int = 20,
) -> str:
    lines = [
        f"checks = {json.dumps(list(checks))}",
        "",
        "[[images]]",
        f'name = "{image}"',
        f'build_args = {{ BASE = "{base_image}" }}',
        'services = ["web"]',
    ]
    for env in ENVS:
        lines += [
            "",
            f"[environments.{env}]",
            'driver = "compose"',
            f'project = "{projects[env]}"',
            f'compose_files = ["docker-compose.yml", "docker-compose.{env}.yml"]',
            f"health_timeout = {health_timeout}",
            "smoke = [",
            f'  {{ url = "http://127.0.0.1:{ports[env]}/version",'
            ' json = { version = "{version}" }, retries = 3 },',
            "]",
        ]
        if env == "production":
            lines.append("approval = true")
    return "\n".join(lines) + "\n"


@dataclass
class ReleaseRepo:
    """One throw-away project: repo, bare remote, image repository, two stacks."""

    root: Path
    remote: Path
    image: str  # e.g. 127.0.0.1:5000/relkit-rel-abc/web
    registry: str
    projects: dict[str, str]
    ports: dict[str, int]
    client: docker.DockerClient
    label: DockerLabel
    base_image: str

    # -- running relkit -------------------------------------------------------

    def env(self) -> dict[str, str]:
        return {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "NO_COLOR")}

    def run(
        self, *args: str, timeout: float = 120, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``python -m relkit ARGS`` as a real process in the repository, no terminal."""
        return run_relkit(self.root, args, {**self.env(), **(env or {})}, timeout)

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return start_relkit(self.root, args, self.env())

    def git(self, *args: str) -> str:
        return git(self.root, *args)

    def commit(self, files: dict[str, str], message: str) -> str:
        for name, text in files.items():
            (self.root / name).write_text(text)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")

    # -- looking at the result ------------------------------------------------

    @property
    def journal_path(self) -> Path:
        return self.root / ".git" / "relkit" / "release.json"

    def journal(self) -> dict[str, Any]:
        return dict(json.loads(self.journal_path.read_text()))

    def steps(self) -> dict[str, dict[str, Any]]:
        return {step["name"]: step for step in self.journal()["steps"]}

    def release_commits(self, version: str) -> list[str]:
        subject = RELEASE_SUBJECT.format(version=version)
        log = self.git("log", "--format=%H %s", "HEAD")
        pairs = [line.split(" ", 1) for line in log.splitlines()]
        return [sha for sha, line_subject in pairs if line_subject == subject]

    def remote_git(self, *args: str) -> str:
        return git(self.remote, *args)

    def remote_tags(self) -> list[str]:
        return self.remote_git("tag", "--list").split()

    def snapshot(self) -> dict[str, Any]:
        """What a run that must change nothing could have changed."""
        files = {
            path.relative_to(self.root).as_posix(): path.read_bytes()
            for path in sorted(self.root.rglob("*"))
            if path.is_file() and ".git" not in path.relative_to(self.root).parts
        }
        return {
            "head": self.git("rev-parse", "HEAD"),
            "tags": self.git("tag", "--list"),
            "status": self.git("status", "--porcelain"),
            "files": files,
            "remote": self.remote_git("show-ref"),
            "journal": self.journal_path.exists(),
            "images": self.local_images(),
            "stacks": {env: self.containers(env) for env in ENVS},
        }

    def local_images(self) -> list[str]:
        return sorted(image.id for image in self.client.images.list(name=self.image))

    def image_id(self, tag: str) -> str:
        return str(self.client.images.get(f"{self.image}:{tag}").id)

    @property
    def repository(self) -> str:
        return self.image.split("/", 1)[1]

    def registry_tags(self) -> list[str]:
        url = f"http://{self.registry}/v2/{self.repository}/tags/list"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return sorted(json.loads(response.read())["tags"] or [])
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return []
            raise

    def registry_digest(self, tag: str) -> str:
        request = urllib.request.Request(
            f"http://{self.registry}/v2/{self.repository}/manifests/{tag}",
            method="HEAD",
            headers={
                "Accept": ", ".join(
                    [
                        "application/vnd.docker.distribution.manifest.v2+json",
                        "application/vnd.oci.image.manifest.v1+json",
                        "application/vnd.docker.distribution.manifest.list.v2+json",
                        "application/vnd.oci.image.index.v1+json",
                    ]
                )
            },
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return str(response.headers["Docker-Content-Digest"])

    def served(self, env: str) -> str | None:
        """What /version of *env* answers now, or None when nothing answers."""
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.ports[env]}/version", timeout=2
            ) as response:
                return str(json.loads(response.read())["version"])
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def containers(self, env: str) -> list[str]:
        selector = {"label": f"com.docker.compose.project={self.projects[env]}"}
        return sorted(c.name for c in self.client.containers.list(all=True, filters=selector))

    def web_image(self, env: str) -> str:
        """The image reference the web container of *env* was created from."""
        selector = {
            "label": [
                f"com.docker.compose.project={self.projects[env]}",
                "com.docker.compose.service=web",
            ]
        }
        (container,) = self.client.containers.list(all=True, filters=selector)
        return str(container.attrs["Config"]["Image"])

    def lock_container(self, env: str) -> Any | None:
        try:
            return self.client.containers.get(f"relkit-lock-{self.projects[env]}")
        except docker.errors.NotFound:
            return None

    def records(self, env: str) -> list[dict[str, Any]]:
        result = self.run("history", env, "--json")
        assert result.returncode == 0, result.stderr
        return list(json.loads(result.stdout))

    # -- cleanup -----------------------------------------------------------------

    def cleanup(self) -> None:
        downs = [  # both projects at once: docker-compose v1 takes seconds per command
            subprocess.Popen(
                [
                    *("docker-compose", "-p", self.projects[env], "-f", "docker-compose.yml"),
                    *("-f", f"docker-compose.{env}.yml", "down", "-v", "--remove-orphans"),
                    *("-t", "2"),
                ],
                cwd=self.root,
                env=self.env(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                text=True,
            )
            for env in ENVS
            if self._has_resources(env)
        ]
        for down in downs:
            _, err = down.communicate(timeout=120)
            assert down.returncode == 0, err
        for env in ENVS:
            lock = self.lock_container(env)
            if lock is not None:
                lock.remove(force=True)
            self._drop_records(self.projects[env])
        for image in self.client.images.list(name=self.image):
            with contextlib.suppress(docker.errors.NotFound):
                self.client.images.remove(image.id, force=True)

    def _has_resources(self, env: str) -> bool:
        selector = {"label": f"com.docker.compose.project={self.projects[env]}"}
        return bool(
            self.client.containers.list(all=True, filters=selector)
            or self.client.networks.list(filters=selector)
            or self.client.volumes.list(filters=selector)
        )

    def _drop_records(self, project: str) -> None:
        try:
            self.client.containers.get("relkit-state").get_archive(f"/state/{project}")
        except docker.errors.NotFound:
            return
        self.client.containers.run(
            self.base_image,
            ["rm", "-rf", f"/state/{project}"],
            volumes={"relkit-state": {"bind": "/state", "mode": "rw"}},
            labels=self.label.labels,
            network_disabled=True,
            remove=True,
        )


ReleaseRepoFactory = Callable[..., ReleaseRepo]


@pytest.fixture
def release_repo(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    docker_client: docker.DockerClient,
    docker_label: DockerLabel,
    busybox_image: str,
    registry: str,
) -> Iterator[ReleaseRepoFactory]:
    """Factory: ``release_repo(checks=[...], break_production="1.1.0")`` -> ReleaseRepo."""
    made: list[ReleaseRepo] = []

    def make(
        *,
        checks: Sequence[str] = (),
        break_production: str | None = None,
        health_timeout: int = 20,
    ) -> ReleaseRepo:
        assert not made, "one project per test"
        uid = uuid.uuid4().hex[:10]
        image = f"{registry}/relkit-rel-{uid}/web"
        projects = {env: f"relkit-r{env[0]}-{uid}" for env in ENVS}
        ports = {env: free_port() for env in ENVS}
        root = tmp_path / "repo"
        remote = tmp_path / "origin.git"
        files = {
            "VERSION": "1.0.0\n",
            "CHANGELOG.md": CHANGELOG,
            "Dockerfile": DOCKERFILE.format(
                label_key=docker_label.key, label_value=docker_label.value
            ),
            "relkit.toml": relkit_toml(
                image,
                busybox_image,
                projects,
                dict(ports),
                checks=checks,
                health_timeout=health_timeout,
            ),
            "docker-compose.yml": BASE_COMPOSE.format(
                image=image, label_key=docker_label.key, label_value=docker_label.value
            ),
        }
        for env in ENVS:
            text = ENV_COMPOSE.format(port=ports[env])
            if env == "production" and break_production:
                text += BREAK_HEALTH.format(version=break_production)
            files[f"docker-compose.{env}.yml"] = text
        git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
        root.mkdir()
        git(root, "init", "-q", "-b", "main")
        for name, text in files.items():
            (root / name).write_text(text)
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "feat: the web service")
        git(root, "remote", "add", "origin", str(remote))
        git(root, "push", "-q", "-u", "origin", "main")
        monkeypatch.chdir(root)
        repo = ReleaseRepo(
            root,
            remote,
            image,
            registry,
            projects,
            ports,
            docker_client,
            docker_label,
            busybox_image,
        )
        made.append(repo)
        return repo

    yield make
    for repo in made:
        repo.cleanup()


class StderrWatch:
    """Collect the stderr lines of a running process in a thread; wait for one."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._done = False
        assert proc.stderr is not None
        self._thread = threading.Thread(target=self._read, args=(proc.stderr,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._done = True
            self._changed.notify_all()

    def wait_for(self, text: str, timeout: float, start: int = 0) -> int | None:
        """Index of the first line from *start* on that contains *text*; None at EOF or
        after *timeout* seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for index in range(start, len(self.lines)):
                    if text in self.lines[index]:
                        return index
                if self._done:
                    return None
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(left)

    @property
    def text(self) -> str:
        self._thread.join(timeout=10)
        return "".join(self.lines)
