"""The example stack's files agree with each other and with docker-compose v1.

No engine needed: `docker-compose config` only reads and validates files.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml")

STACK = Path(__file__).resolve().parent.parent / "examples" / "stack"
ENVIRONMENT_FILES = {
    "dev": ["docker-compose.yml", "docker-compose.override.yml"],
    "staging": ["docker-compose.yml", "docker-compose.staging.yml"],
    "production": ["docker-compose.yml", "docker-compose.prod.yml"],
}
JOBS = {"migrate", "backup", "restore"}


@cache
def resolved_files(files: tuple[str, ...]) -> str:
    """``docker-compose config`` output for ``files`` (run once per combination).

    Only PATH and the one required secret are passed, so that stack variables
    set in the caller's shell (API_IMAGE, ...) cannot change the result.
    """
    compose = shutil.which("docker-compose")
    if compose is None:
        pytest.skip("docker-compose (v1) not installed")
    command = [compose, "--project-directory", str(STACK)]
    for name in files:
        command += ["-f", str(STACK / name)]
    result = subprocess.run(
        [*command, "config"],
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", ""), "POSTGRES_PASSWORD": "from-the-environment"},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def resolved(files: list[str]) -> dict[str, Any]:
    """The merged configuration, as docker-compose v1 resolves it."""
    config: dict[str, Any] = yaml.safe_load(resolved_files(tuple(files)))
    return config


def published_ports(service: dict[str, Any]) -> set[str]:
    """Host ports of a resolved service ("[ip:]host:container[/proto]" or long form)."""
    ports = set()
    for port in service.get("ports", []):
        if isinstance(port, dict):
            ports.add(str(port["published"]))
        else:
            ports.add(str(port).split("/")[0].split(":")[-2])
    return ports


@pytest.mark.parametrize("environment", sorted(ENVIRONMENT_FILES))
def test_compose_files_resolve_with_docker_compose_v1(environment: str) -> None:
    services = resolved(ENVIRONMENT_FILES[environment])["services"]
    assert set(services) == {"api", "db", *JOBS}
    for name, service in services.items():
        image = service["image"]
        assert ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest"), name
        assert service.get("user"), f"{name} runs as root"
        assert "/var/run/docker.sock" not in str(service.get("volumes", [])), name
    for name in ("api", "db"):
        assert services[name]["healthcheck"]["test"], name
    for name in JOBS:
        assert services[name]["profiles"] == ["jobs"], name


def test_password_is_never_written_into_a_compose_file() -> None:
    for path in STACK.glob("docker-compose*.yml"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"PASSWORD\s*:", line):
                value = line.split(":", 1)[1].strip()
                assert value.startswith("${") and ":?" in value, f"{path.name}:{number}: {line}"


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_long_running_services_restart_and_rotate_logs(environment: str) -> None:
    services = resolved(ENVIRONMENT_FILES[environment])["services"]
    for name in ("api", "db"):
        assert services[name]["restart"] == "unless-stopped", name
        logging = services[name]["logging"]
        assert logging["driver"] == "json-file", name
        assert {"max-size", "max-file"} <= set(logging["options"]), name


def test_production_limits_are_set_for_compose_v1_and_for_swarm() -> None:
    services = resolved(ENVIRONMENT_FILES["production"])["services"]
    for name, service in services.items():
        limits = service["deploy"]["resources"]["limits"]
        assert service["mem_limit"].lower() == limits["memory"].lower(), name
        assert float(service["cpus"]) == float(limits["cpus"]), name
    assert services["api"]["read_only"] and services["db"]["read_only"]


def test_staging_and_production_publish_different_host_ports() -> None:
    staging, production = (
        published_ports(resolved(ENVIRONMENT_FILES[environment])["services"]["api"])
        for environment in ("staging", "production")
    )
    assert staging and production and not staging & production


def test_relkit_toml_matches_the_compose_files() -> None:
    config = tomllib.loads((STACK / "relkit.toml").read_text())
    services = resolved(ENVIRONMENT_FILES["production"])["services"]
    for image in config["images"]:
        assert (STACK / image["context"] / image["dockerfile"]).is_file()
        assert set(image["services"]) <= set(services)
        for service in image["services"]:
            assert services[service]["image"].startswith(image["name"] + ":"), service
    for name, environment in config["environments"].items():
        assert environment["driver"] in {"compose", "swarm"}, name
        files = environment["compose_files"]
        assert all((STACK / file).is_file() for file in files), name
        published = published_ports(resolved(files)["services"]["api"])
        smoke_ports = {
            re.sub(r"^http://127\.0\.0\.1:(\d+)/.*$", r"\1", check["url"])
            for check in environment["smoke"]
        }
        assert smoke_ports == published, name
        assert {environment["migrate"], *environment["pre_deploy"]} <= JOBS, name


def test_version_file_matches_the_latest_changelog_release() -> None:
    version = (STACK / "VERSION").read_text().strip()
    releases = re.findall(
        r"^## \[(\d[^\]]*)\] - \d{4}-\d\d-\d\d$", (STACK / "CHANGELOG.md").read_text(), re.M
    )
    assert releases and releases[0] == version
