"""The compose driver: one Docker engine, driven through Docker Compose.

Works with ``docker compose`` (v2) and ``docker-compose`` (v1), whichever is
installed. The user's compose files need nothing special: relkit writes an
override file of its own that pins the image of each service listed in
``[[images]].services`` to ``name@sha256:digest``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from relkit.errors import DockerError, RelkitError


class StepFailed(RelkitError):
    """A deploy step failed; the pipeline decides whether to roll back."""


def run_cli(
    argv: Sequence[str], cwd: Path, env: Mapping[str, str], what: str
) -> subprocess.CompletedProcess[str]:
    """Run a docker CLI (compose, stack) without a terminal, its output captured."""
    try:
        return subprocess.run(
            argv,
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            errors="replace",
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except OSError as exc:
        raise DockerError(f"{what}: {exc}") from None


def step_failed(what: str, proc: subprocess.CompletedProcess[str]) -> StepFailed:
    """The failure of *proc*, with the last lines it wrote."""
    tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
    return StepFailed(f"{what} failed (exit {proc.returncode}):\n{tail}")


@dataclass(frozen=True)
class ComposeProject:
    root: Path
    project: str
    files: tuple[str, ...]
    docker_host: str = ""

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ)
        if self.docker_host:
            env["DOCKER_HOST"] = self.docker_host
        env.update(extra or {})
        return env


def compose_command() -> list[str]:
    """``docker compose`` when the v2 plugin answers, else ``docker-compose`` (v1)."""
    if shutil.which("docker"):
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, text=True, check=False
        )
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    raise DockerError(
        "neither 'docker compose' (v2) nor 'docker-compose' (v1) is installed",
        "install the Docker Compose plugin or docker-compose",
    )


def _file_version(path: Path) -> str | None:
    """The top-level ``version:`` of a compose file (v1 needs overrides to match it)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    match = re.search(r"^version:\s*['\"]?([0-9.]+)['\"]?\s*(?:#.*)?$", text, re.MULTILINE)
    return match.group(1) if match else None


def override_text(pins: Mapping[str, str], version: str | None) -> str:
    """The override file that pins *pins* (service -> image reference)."""
    lines = ["# written by relkit: pins each service's image by digest"]
    if version:
        lines.append(f'version: "{version}"')
    lines.append("services:")
    for service, image in sorted(pins.items()):
        lines.append(f"  {service}:")
        lines.append(f'    image: "{image}"')
    return "\n".join(lines) + "\n"


class ComposeDriver:
    def __init__(self, project: ComposeProject, command: Sequence[str] | None = None) -> None:
        self.project = project
        self.command = list(command) if command is not None else compose_command()
        self._tmp = tempfile.TemporaryDirectory(prefix="relkit-compose-")
        self.override: Path | None = None
        for name in project.files:
            if not (project.root / name).is_file():
                raise DockerError(
                    f"compose file {project.root / name} does not exist",
                    "fix compose_files of the environment",
                )

    def close(self) -> None:
        self._tmp.cleanup()

    def pin(self, pins: Mapping[str, str]) -> Path:
        """Write the override file for *pins* and use it from now on."""
        first = self.project.root / self.project.files[0]
        path = Path(self._tmp.name) / f"{self.project.project}.relkit.yml"
        path.write_text(override_text(pins, _file_version(first)), encoding="utf-8")
        self.override = path
        return path

    def _base(self) -> list[str]:
        args = [*self.command, "-p", self.project.project]
        for name in self.project.files:
            args += ["-f", str(self.project.root / name)]
        if self.override is not None:
            args += ["-f", str(self.override)]
        return args

    def _run(self, args: Sequence[str], what: str, env: Mapping[str, str] | None = None) -> str:
        proc = run_cli([*self._base(), *args], self.project.root, self.project.env(env), what)
        if proc.returncode != 0:
            raise step_failed(what, proc)
        return proc.stdout

    def services(self) -> list[str]:
        return self._run(["config", "--services"], "reading the compose services").split()

    def run_once(self, service: str, env: Mapping[str, str] | None = None) -> str:
        """Run a one-off service (``run --rm``) and return its output."""
        args = ["run", "--rm", "-T"]
        for key, value in (env or {}).items():
            args += ["-e", f"{key}={value}"]
        return self._run([*args, service], f"one-off service {service!r}", env)

    def up(self, services: Sequence[str], env: Mapping[str, str] | None = None) -> None:
        self._run(
            ["up", "-d", "--no-build", "--remove-orphans", *services],
            "rolling out the services",
            env,
        )

    def down(self) -> None:
        self._run(["down", "--remove-orphans"], "stopping the services")
