"""End-to-end: the example stack builds, runs, migrates, backs up and restores.

Images are built on the stack's offline stand-in bases (no image can be
pulled here; examples/stack/offline/build-bases makes them): a postgres
stand-in keeping the official image's contract, the backup image on top of it,
and the api image on the Debian base under it. The stack runs with the
base and staging compose files under a unique project name.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors
import pytest
from docker.models.containers import Container

from tests.docker_support import DockerLabel, StackBases, labelled_resources
from tests.web_image import free_port

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parent.parent
STACK = ROOT / "examples" / "stack"
SERVICES = ["api", "db", "migrate", "backup"]
VOLUMES = ["db-data", "backups"]
VERSION = "1.2.3-rc.1"
GIT_SHA = "0123abc"


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

    def container(self, service: str) -> Container:
        filters = {
            "label": [
                f"com.docker.compose.project={self.project}",
                f"com.docker.compose.service={service}",
            ]
        }
        (container,) = self.client.containers.list(filters=filters)
        return container

    def health_status(self, service: str) -> str:
        state = self.container(service).attrs["State"]
        return str(state.get("Health", {}).get("Status", "none"))

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


@dataclass(frozen=True)
class StackImages:
    api: str
    backup: str
    db: str
    label: DockerLabel


@pytest.fixture(scope="module")
def stack_images(
    docker_client: docker.DockerClient, stack_bases: StackBases
) -> Iterator[StackImages]:
    base, db = stack_bases.python, stack_bases.postgres
    with labelled_resources(docker_client) as label:
        tag = label.value
        backup = build(docker_client, STACK / "backup", f"relkit-test/stack-backup:{tag}", label,
                       BASE_IMAGE=db)  # fmt: skip
        api = build(docker_client, STACK / "api", f"relkit-test/stack-api:{tag}", label,
                    BASE_IMAGE=base, VERSION=VERSION, GIT_SHA=GIT_SHA)  # fmt: skip
        yield StackImages(api=api, backup=backup, db=db, label=label)


@contextmanager
def running_stack(
    client: docker.DockerClient, images: StackImages, environment: str, workdir: Path
) -> Iterator[Stack]:
    """Bring the stack up with docker-compose.yml + docker-compose.<environment>.yml."""
    label = images.label
    override = workdir / "docker-compose.labels.yml"
    override.write_text(label_override(label))
    port = free_port()
    port_variable = {"staging": "STAGING_API_PORT", "prod": "PRODUCTION_API_PORT"}[environment]
    env = {
        **os.environ,
        "API_IMAGE": images.api,
        "BACKUP_IMAGE": images.backup,
        "DB_IMAGE": images.db,
        "POSTGRES_PASSWORD": f"pw-{label.value}",
        port_variable: str(port),
    }
    stack = Stack(
        project=f"relkit-test-{environment}-{label.value}",
        files=[STACK / "docker-compose.yml", STACK / f"docker-compose.{environment}.yml", override],
        env=env,
        api_url=f"http://127.0.0.1:{port}",
        client=client,
    )
    try:
        stack.compose("up", "-d")
        yield stack
    finally:
        stack.compose("down", "-v", "--remove-orphans", "--timeout", "5")


@pytest.fixture(scope="module")
def staging(
    docker_client: docker.DockerClient,
    stack_images: StackImages,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("staging")
    with running_stack(docker_client, stack_images, "staging", workdir) as stack:
        yield stack


def test_migrate_applies_each_migration_once(staging: Stack) -> None:
    first = staging.compose("run", "--rm", "migrate")
    assert "applied 0001_create_items.sql" in first
    assert "applied 0002_items_name_unique.sql" in first
    assert staging.compose("run", "--rm", "migrate").strip().endswith("migrate: up to date")
    versions = staging.psql("SELECT version FROM schema_migrations ORDER BY version")
    assert versions.split() == ["1", "2"]


def test_api_is_healthy_and_reports_its_build(staging: Stack) -> None:
    assert staging.wait_healthy("db", timeout=60) == "healthy"
    assert staging.wait_healthy("api", timeout=60) == "healthy"
    status, body = wait_for_status(f"{staging.api_url}/health", 200, timeout=30)
    assert (status, json.loads(body)) == (200, {"status": "ok", "database": "ok"})
    status, body = http_get(f"{staging.api_url}/version")
    assert (status, json.loads(body)) == (200, {"version": VERSION, "git_sha": GIT_SHA})


def test_health_is_503_while_the_database_is_down(staging: Stack) -> None:
    assert wait_for_status(f"{staging.api_url}/health", 200, timeout=60)[0] == 200
    staging.compose("stop", "--timeout", "10", "db")
    try:
        status, body = wait_for_status(f"{staging.api_url}/health", 503, timeout=30)
        assert status == 503
        assert json.loads(body)["status"] == "unavailable"
    finally:
        staging.compose("start", "db")
    assert wait_for_status(f"{staging.api_url}/health", 200, timeout=60)[0] == 200


def test_backup_keeps_the_newest_and_restore_brings_data_back(staging: Stack) -> None:
    staging.compose("run", "--rm", "migrate")
    staging.psql("INSERT INTO items (name) VALUES ('before-backup')")

    first = staging.compose("run", "--rm", "-e", "BACKUP_KEEP=1", "backup").strip()
    time.sleep(1.1)  # dump names carry the time to the second
    second = staging.compose("run", "--rm", "-e", "BACKUP_KEEP=1", "backup").strip()
    assert first != second
    assert second.startswith("/backups/acme-") and second.endswith(".dump")
    listing = staging.compose("run", "--rm", "backup", "ls", "/backups").split()
    assert listing == [Path(second).name]

    staging.psql("DELETE FROM items")
    assert staging.psql("SELECT count(*) FROM items").strip() == "0"
    staging.compose("run", "--rm", "backup", "restore.sh", Path(second).name)
    assert staging.psql("SELECT name FROM items").split() == ["before-backup"]

    staging.psql("UPDATE items SET name = 'changed'")
    staging.compose("run", "--rm", "backup", "restore.sh", "latest")
    assert staging.psql("SELECT name FROM items").split() == ["before-backup"]

    # relkit's contract: the dump is named after RELKIT_BACKUP_NAME, retention counts
    # both kinds of names by time, and the restore job finds it by that name alone.
    named = staging.compose(
        "run", "--rm", "-e", "BACKUP_KEEP=2", "-e", "RELKIT_BACKUP_NAME=relkit-1-2.0.0", "backup"
    ).strip()  # fmt: skip
    assert named == "/backups/acme-relkit-1-2.0.0.dump"
    listing = staging.compose("run", "--rm", "backup", "ls", "/backups").split()
    assert sorted(listing) == sorted([Path(second).name, Path(named).name])
    staging.psql("DELETE FROM items")
    staging.compose("run", "--rm", "-e", "RELKIT_BACKUP_NAME=relkit-1-2.0.0", "restore")
    assert staging.psql("SELECT name FROM items").split() == ["before-backup"]


def test_production_runs_beside_staging_with_its_limits(
    docker_client: docker.DockerClient,
    stack_images: StackImages,
    staging: Stack,
    tmp_path: Path,
) -> None:
    with running_stack(docker_client, stack_images, "prod", tmp_path) as production:
        production.compose("run", "--rm", "migrate")
        assert production.wait_healthy("db", timeout=60) == "healthy"
        assert production.wait_healthy("api", timeout=60) == "healthy"
        assert wait_for_status(f"{production.api_url}/health", 200, timeout=30)[0] == 200
        assert wait_for_status(f"{staging.api_url}/health", 200, timeout=30)[0] == 200

        db = production.container("db").attrs["HostConfig"]
        api = production.container("api").attrs["HostConfig"]
        assert (db["ReadonlyRootfs"], api["ReadonlyRootfs"]) == (True, True)
        assert (api["Memory"], api["NanoCpus"]) == (256 * 2**20, 500_000_000)
        assert db["Memory"] == 2**30
        assert api["RestartPolicy"]["Name"] == "unless-stopped"
        assert api["LogConfig"] == {
            "Type": "json-file",
            "Config": {"max-size": "10m", "max-file": "5"},
        }
