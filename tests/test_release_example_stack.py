"""End to end through relkit: the example stack released, migrated and rolled back.

The README demo's flow as assertions, on the real engine and registry. A copy
of examples/stack in a git repository of its own, with relkit.toml pointed at
the offline stand-in bases, at image repositories, compose projects and ports
of this test only, and one more compose file that puts the test's label on
every container, network and volume:

1. the stack's current version: build --push, deploy staging, deploy production;
2. a migration (0003) and a minor bump: both environments migrate, after a
   backup named after the deploy's record;
3. staging rolls back without --restore-db: a warning, the old release runs on
   the newer schema with the newer data;
4. production rolls back with --restore-db: the old release, the data and the
   schema as they were before the migration; history and status say so;
5. production rolls forward again: the idempotent migration applies once more.

relkit runs as ``python -m relkit`` in the repository, as a user would run it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest
import tomlkit

from tests.conftest import git
from tests.docker_support import DockerLabel, StackBases, remove_labelled
from tests.web_image import free_port

pytestmark = pytest.mark.docker

STACK = Path(__file__).resolve().parent.parent / "examples" / "stack"
ENVIRONMENTS = {"staging": "docker-compose.staging.yml", "production": "docker-compose.prod.yml"}
MIGRATION = """\
-- Idempotent: a restore (pg_restore --clean) may leave objects behind.
ALTER TABLE items ADD COLUMN IF NOT EXISTS note text NOT NULL DEFAULT '';
"""
MANIFESTS = ", ".join(
    [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    ]
)


def label_file(label: DockerLabel) -> str:
    """A compose file putting the test's label on everything compose creates."""
    labels = {"labels": label.labels}
    services = ["api", "db", "migrate", "backup", "restore"]
    return json.dumps(  # JSON is YAML
        {
            "services": {name: labels for name in services},
            "networks": {"default": labels},
            "volumes": {name: labels for name in ("db-data", "backups")},
        }
    )


@dataclass
class ReleasedStack:
    root: Path
    uid: str
    registry: str
    ports: dict[str, int]
    client: docker.DockerClient
    label: DockerLabel
    bases: StackBases

    def project(self, env: str) -> str:
        return f"relkit-e2e-{self.uid}-{env}"

    def repository(self, image: str) -> str:
        return f"relkit-test-{self.uid}/{image}"

    def relkit(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "NO_COLOR")}
        return subprocess.run(
            [sys.executable, "-m", "relkit", *args],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )

    def ok(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = self.relkit(*args)
        assert result.returncode == 0, f"relkit {' '.join(args)}:\n{result.stderr}"
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json").stdout)

    def compose(self, env: str, *args: str) -> subprocess.CompletedProcess[str]:
        command = ["docker-compose", "-p", self.project(env), "-f", "docker-compose.yml"]
        command += ["-f", ENVIRONMENTS[env], "-f", "docker-compose.labels.yml"]
        return subprocess.run(
            [*command, *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=180,
            check=False,
        )

    def psql(self, env: str, sql: str) -> list[str]:
        result = self.compose(
            env, "exec", "-T", "db",
            "psql", "-v", "ON_ERROR_STOP=1", "-qtA", "-U", "acme", "-d", "acme", "-c", sql,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return result.stdout.split()

    def columns(self, env: str) -> list[str]:
        return self.psql(
            env,
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_name = 'items' ORDER BY ordinal_position",
        )

    def served(self, env: str) -> dict[str, str]:
        url = f"http://127.0.0.1:{self.ports[env]}/version"
        with urllib.request.urlopen(url, timeout=5) as response:
            body: dict[str, str] = json.loads(response.read())
        return body

    def backups(self, env: str) -> list[str]:
        """The files in the environment's ``backups`` volume."""
        output = self.client.containers.run(
            self.bases.python,
            ["ls", "/backups"],
            volumes={f"{self.project(env)}_backups": {"bind": "/backups", "mode": "ro"}},
            labels=self.label.labels,
            network_disabled=True,
            remove=True,
        )
        return output.decode().split()

    def cleanup(self) -> None:
        for env in ENVIRONMENTS:
            self.compose(env, "down", "-v", "--remove-orphans", "-t", "2")
            with contextlib.suppress(docker.errors.NotFound):
                self.client.containers.get(f"relkit-lock-{self.project(env)}").remove(force=True)
        remove_labelled(self.client, self.label)
        projects = [f"/state/{self.project(env)}" for env in ENVIRONMENTS]
        with contextlib.suppress(docker.errors.DockerException):
            self.client.containers.run(
                self.bases.python,
                ["rm", "-rf", *projects],
                volumes={"relkit-state": {"bind": "/state", "mode": "rw"}},
                labels=self.label.labels,
                network_disabled=True,
                remove=True,
            )
        for image in ("api", "backup"):
            delete_manifests(self.registry, self.repository(image))


def delete_manifests(registry: str, repository: str) -> None:
    base = f"http://{registry}/v2/{repository}"
    try:
        with urllib.request.urlopen(f"{base}/tags/list", timeout=10) as response:
            tags = json.loads(response.read()).get("tags") or []
        digests = set()
        for tag in tags:
            request = urllib.request.Request(f"{base}/manifests/{tag}", method="HEAD")
            request.add_header("Accept", MANIFESTS)
            with urllib.request.urlopen(request, timeout=10) as response:
                digests.add(response.headers["Docker-Content-Digest"])
        for digest in digests:
            request = urllib.request.Request(f"{base}/manifests/{digest}", method="DELETE")
            urllib.request.urlopen(request, timeout=10).close()
    except urllib.error.HTTPError:
        pass  # nothing pushed, or a registry without deletes: its storage is temporary


def configure(root: Path, stack: ReleasedStack) -> None:
    """Point the copy's relkit.toml at this test's images, projects, ports and bases."""
    path = root / "relkit.toml"
    config: Any = tomlkit.parse(path.read_text())
    bases = {"api": stack.bases.python, "backup": stack.bases.postgres}
    for image in config["images"]:
        short = image["name"].rsplit("/", 1)[-1]
        image["name"] = f"{stack.registry}/{stack.repository(short)}"
        image["build_args"]["BASE_IMAGE"] = bases[short]
    for env in ENVIRONMENTS:
        table = config["environments"][env]
        table["project"] = stack.project(env)
        table["compose_files"].append("docker-compose.labels.yml")
        table["health_timeout"] = 90
        for check in table["smoke"]:
            check["url"] = check["url"].replace(
                "127.0.0.1:8081" if env == "staging" else "127.0.0.1:8080",
                f"127.0.0.1:{stack.ports[env]}",
            )
            assert str(stack.ports[env]) in check["url"], check["url"]
    path.write_text(tomlkit.dumps(config))


@pytest.fixture
def released_stack(
    tmp_path: Path,
    docker_client: docker.DockerClient,
    docker_label: DockerLabel,
    stack_bases: StackBases,
    registry: str,
) -> Iterator[ReleasedStack]:
    if shutil.which("docker-compose") is None:
        pytest.fail("docker-compose not found — apt-get install docker-compose", pytrace=False)
    root = tmp_path / "stack"
    shutil.copytree(STACK, root, ignore=shutil.ignore_patterns(".env", "offline"))
    stack = ReleasedStack(
        root=root,
        uid=uuid.uuid4().hex[:10],
        registry=registry,
        ports={"staging": free_port(), "production": free_port()},
        client=docker_client,
        label=docker_label,
        bases=stack_bases,
    )
    configure(root, stack)
    (root / "docker-compose.labels.yml").write_text(label_file(docker_label))
    (root / ".env").write_text(
        f"POSTGRES_PASSWORD=pw-{stack.uid}\n"
        f"DB_IMAGE={stack_bases.postgres}\n"
        f"STAGING_API_PORT={stack.ports['staging']}\n"
        f"PRODUCTION_API_PORT={stack.ports['production']}\n"
    )
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "chore: the example stack")
    try:
        yield stack
    finally:
        stack.cleanup()


def test_release_migrate_and_roll_back_the_example_stack(released_stack: ReleasedStack) -> None:
    stack = released_stack
    label = f"--label={stack.label.key}={stack.label.value}"

    # 1. The current version to staging and production.
    old = stack.ok("version").stdout.strip()
    old_sha = git(stack.root, "rev-parse", "HEAD")
    stack.ok("build", "--push", label)
    for env in ENVIRONMENTS:
        deployed = stack.ok("deploy", env, "--yes")
        assert deployed.stdout == f"{old}\n"
        assert "✓ pre-deploy (" in deployed.stderr and "✓ migrate (" in deployed.stderr
        assert stack.served(env) == {"version": old, "git_sha": old_sha}
        stack.psql(env, "INSERT INTO items (name) VALUES ('apples'), ('pears')")
    assert stack.psql("production", "SELECT version FROM schema_migrations") == ["1", "2"]

    # 2. A migration, a release, both environments migrated after a named backup.
    (stack.root / "api/migrations/0003_items_note.sql").write_text(MIGRATION)
    stack.ok("changelog", "add", "added", "A note on every item (migration 0003)")
    git(stack.root, "add", "-A")
    git(stack.root, "commit", "-qm", "feat(db): a note on every item")
    new = stack.ok("bump", "minor").stdout.strip()
    assert new != old
    new_sha = git(stack.root, "rev-parse", "HEAD")
    stack.ok("build", "--push", label)
    for env in ENVIRONMENTS:
        deployed = stack.ok("deploy", env, "--yes")
        assert stack.served(env) == {"version": new, "git_sha": new_sha}
        assert stack.columns(env) == ["id", "name", "created_at", "note"]
        assert stack.psql(env, "SELECT version FROM schema_migrations") == ["1", "2", "3"]
        stack.psql(env, f"UPDATE items SET note = '{new}'; INSERT INTO items (name) VALUES ('x')")
    migrating = stack.json("history", "production")[0]
    assert (migrating["version"], migrating["outcome"], migrating["migrated"]) == (
        new,
        "succeeded",
        True,
    )
    assert migrating["backup"] == f"relkit-{migrating['id']}"
    assert f"acme-{migrating['backup']}.dump" in stack.backups("production")

    # 3. Staging without --restore-db: the old release on the newer schema and data.
    plain = stack.ok("rollback", "staging", "--yes")
    assert (
        f"warning: a migration ran since {old}; the database schema stays at the newer version"
        in plain.stderr
    )
    assert "✓ restore (" not in plain.stderr
    assert stack.served("staging") == {"version": old, "git_sha": old_sha}
    assert stack.columns("staging") == ["id", "name", "created_at", "note"]
    assert stack.psql("staging", "SELECT name FROM items ORDER BY id") == ["apples", "pears", "x"]

    # 4. Production with --restore-db: release, data and schema as before the migration.
    restored = stack.ok("rollback", "production", "--restore-db", "--yes")
    assert "✓ restore (" in restored.stderr
    assert "schema stays at the newer version" not in restored.stderr
    assert restored.stdout == f"{old}\n"
    assert stack.served("production") == {"version": old, "git_sha": old_sha}
    assert stack.columns("production") == ["id", "name", "created_at"]
    assert stack.psql("production", "SELECT name FROM items ORDER BY id") == ["apples", "pears"]
    assert stack.psql("production", "SELECT version FROM schema_migrations") == ["1", "2"]
    history = stack.json("history", "production")
    assert [(r["kind"], r["version"], r["outcome"]) for r in history] == [
        ("rollback", old, "succeeded"),
        ("deploy", new, "succeeded"),
        ("deploy", old, "succeeded"),
    ]
    assert history[0]["backup"] == migrating["backup"]
    assert "restore" in history[0]["durations"]
    status = stack.json("status", "production")
    assert status["release"]["version"] == old
    assert status["drift"] == [] and status["notes"] == [] and status["lock"] is None
    health = {s["service"]: (s["status"], s["health"]) for s in status["services"]}
    assert health == {"api": ("running", "healthy"), "db": ("running", "healthy")}

    # 5. Forward again: the migration applies once more, on the restored data.
    stack.ok("deploy", "production", "--version", new, "--yes")
    assert stack.served("production") == {"version": new, "git_sha": new_sha}
    assert stack.columns("production") == ["id", "name", "created_at", "note"]
    assert stack.psql("production", "SELECT name FROM items ORDER BY id") == ["apples", "pears"]
