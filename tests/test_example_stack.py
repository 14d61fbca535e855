"""End-to-end: the example stack builds, runs, migrates, backs up and restores.

Images are built from a Debian root fs (no image can be pulled here): a
postgres stand-in keeping the official image's contract, the backup image on
top of it, and the api image on the same Debian base. The stack runs with the
base and staging compose files under a unique project name.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors
import pytest

from tests.docker_support import DebianImageFactory, DockerLabel, labelled_resources

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parent.parent
STACK = ROOT / "examples" / "stack"
POSTGRES_STANDIN = Path(__file__).resolve().parent / "images" / "postgres"
BASE_PACKAGES = ["postgresql", "python3", "python3-psycopg2"]
SERVICES = ["api", "db", "migrate", "backup"]
VOLUMES = ["db-data", "backups"]
VERSION = "1.2.3-rc.1"
GIT_SHA = "0123abc"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, OSError):
        return 0, b""


def wait_for_status(url: str, status: int, timeout: float) -> tuple[int, bytes]:
    deadline = time.monotonic() + timeout
    while True:
        got = http_get(url)
        if got[0] == status or time.monotonic() > deadline:
            return got
        time.sleep(0.5)


def label_override(label: DockerLabel) -> str:
    """A compose file putting the test label on every container, network and volume."""
    labels = {"labels": label.labels}
    return json.dumps(  # JSON is YAML
        {
            "services": {name: labels for name in SERVICES},
            "networks": {"default": labels},
            "volumes": {name: labels for name in VOLUMES},
        }
    )


@dataclass(frozen=True)
class Stack:
    project: str
    files: list[Path]
    env: dict[str, str]
    api_url: str
    client: docker.DockerClient

    def compose(self, *args: str, timeout: float = 180) -> str:
        command = [compose_binary(), "-p", self.project]
        for file in self.files:
            command += ["-f", str(file)]
        result = subprocess.run(
            [*command, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert result.returncode == 0, (
            f"docker-compose {' '.join(args)} exited {result.returncode}:\n"
            f"{result.stdout}\n{result.stderr}"
        )
        return result.stdout

    def psql(self, sql: str) -> str:
        return self.compose(
            "exec", "-T", "db",
            "psql", "-v", "ON_ERROR_STOP=1", "-qtA", "-U", "acme", "-d", "acme", "-c", sql,
        )  # fmt: skip

    def health_status(self, service: str) -> str:
        filters = {
            "label": [
                f"com.docker.compose.project={self.project}",
                f"com.docker.compose.service={service}",
            ]
        }
        (container,) = self.client.containers.list(filters=filters)
        return str(container.attrs["State"].get("Health", {}).get("Status", "none"))

    def wait_healthy(self, service: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        status = self.health_status(service)
        while status != "healthy" and time.monotonic() < deadline:
            time.sleep(0.5)
            status = self.health_status(service)
        return status


def compose_binary() -> str:
    found = shutil.which("docker-compose")
    if found is None:
        pytest.fail("docker-compose not found — apt-get install docker-compose", pytrace=False)
    return found


def build(client: docker.DockerClient, path: Path, tag: str, label: DockerLabel,
          **buildargs: str) -> str:  # fmt: skip
    try:
        client.images.build(
            path=str(path), tag=tag, buildargs=buildargs, labels=label.labels, rm=True
        )
    except docker.errors.BuildError as exc:
        log = "".join(str(chunk.get("stream", chunk)) for chunk in exc.build_log)
        pytest.fail(f"building {path.name} failed: {exc}\n{log}", pytrace=False)
    return tag


@pytest.fixture(scope="module")
def stack(
    docker_client: docker.DockerClient,
    debian_base_image: DebianImageFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    base = debian_base_image(BASE_PACKAGES)
    with labelled_resources(docker_client) as label:
        tag = label.value
        db_image = build(docker_client, POSTGRES_STANDIN, f"relkit-test/stack-db:{tag}", label,
                         BASE_IMAGE=base)  # fmt: skip
        backup_image = build(docker_client, STACK / "backup", f"relkit-test/stack-backup:{tag}",
                             label, BASE_IMAGE=db_image)  # fmt: skip
        api_image = build(docker_client, STACK / "api", f"relkit-test/stack-api:{tag}", label,
                          BASE_IMAGE=base, VERSION=VERSION, GIT_SHA=GIT_SHA)  # fmt: skip
        override = tmp_path_factory.mktemp("stack") / "docker-compose.labels.yml"
        override.write_text(label_override(label))
        port = free_port()
        env = {
            **os.environ,
            "API_IMAGE": api_image,
            "BACKUP_IMAGE": backup_image,
            "DB_IMAGE": db_image,
            "POSTGRES_PASSWORD": f"pw-{tag}",
            "STAGING_API_PORT": str(port),
        }
        stack = Stack(
            project=f"relkit-test-{tag}",
            files=[
                STACK / "docker-compose.yml",
                STACK / "docker-compose.staging.yml",
                override,
            ],
            env=env,
            api_url=f"http://127.0.0.1:{port}",
            client=docker_client,
        )
        try:
            stack.compose("up", "-d")
            yield stack
        finally:
            stack.compose("down", "-v", "--remove-orphans", "--timeout", "5")


def test_migrate_applies_each_migration_once(stack: Stack) -> None:
    first = stack.compose("run", "--rm", "migrate")
    assert "applied 0001_create_items.sql" in first
    assert "applied 0002_items_name_unique.sql" in first
    assert stack.compose("run", "--rm", "migrate").strip().endswith("migrate: up to date")
    versions = stack.psql("SELECT version FROM schema_migrations ORDER BY version")
    assert versions.split() == ["1", "2"]


def test_api_is_healthy_and_reports_its_build(stack: Stack) -> None:
    assert stack.wait_healthy("db", timeout=60) == "healthy"
    assert stack.wait_healthy("api", timeout=60) == "healthy"
    status, body = wait_for_status(f"{stack.api_url}/health", 200, timeout=30)
    assert (status, json.loads(body)) == (200, {"status": "ok", "database": "ok"})
    status, body = http_get(f"{stack.api_url}/version")
    assert (status, json.loads(body)) == (200, {"version": VERSION, "git_sha": GIT_SHA})


def test_health_is_503_while_the_database_is_down(stack: Stack) -> None:
    assert wait_for_status(f"{stack.api_url}/health", 200, timeout=60)[0] == 200
    stack.compose("stop", "--timeout", "10", "db")
    try:
        status, body = wait_for_status(f"{stack.api_url}/health", 503, timeout=30)
        assert status == 503
        assert json.loads(body)["status"] == "unavailable"
    finally:
        stack.compose("start", "db")
    assert wait_for_status(f"{stack.api_url}/health", 200, timeout=60)[0] == 200


def test_backup_keeps_the_newest_and_restore_brings_data_back(stack: Stack) -> None:
    stack.compose("run", "--rm", "migrate")
    stack.psql("INSERT INTO items (name) VALUES ('before-backup')")

    first = stack.compose("run", "--rm", "-e", "BACKUP_KEEP=1", "backup").strip()
    time.sleep(1.1)  # dump names carry the time to the second
    second = stack.compose("run", "--rm", "-e", "BACKUP_KEEP=1", "backup").strip()
    assert first != second
    assert second.startswith("/backups/acme-") and second.endswith(".dump")
    listing = stack.compose("run", "--rm", "backup", "ls", "/backups").split()
    assert listing == [Path(second).name]

    stack.psql("DELETE FROM items")
    assert stack.psql("SELECT count(*) FROM items").strip() == "0"
    stack.compose("run", "--rm", "backup", "restore.sh", "latest")
    assert stack.psql("SELECT name FROM items").split() == ["before-backup"]
