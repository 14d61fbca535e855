"""``docker stack deploy`` and ``docker stack config``, run as argument lists.

The docker CLI does what a user would do by hand: it merges the compose files,
interpolates variables, creates the stack's networks, configs and secrets, and
turns each service into a swarm service spec. relkit adds its own last file
(images by digest, update policy) and watches the result through the SDK.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from relkit.deploy.compose import StepFailed, run_cli, step_failed
from relkit.errors import ConfigError, DockerError

_RETRYABLE = re.compile(r"update out of sequence|rpc error: code = Unknown desc = update", re.I)


def dotenv(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines of a ``.env`` file (compose reads it; ``docker stack`` does not)."""
    values: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return values
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


class StackCLI:
    def __init__(self, workdir: Path, docker_host: str = "") -> None:
        if shutil.which("docker") is None:
            raise DockerError(
                "the docker CLI is not installed (the swarm driver runs 'docker stack deploy')",
                "install the docker CLI on the machine that runs relkit",
            )
        self.workdir = workdir
        self.docker_host = docker_host

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {**dotenv(self.workdir / ".env"), **os.environ}
        if self.docker_host:
            env["DOCKER_HOST"] = self.docker_host
        env.update(extra or {})
        return env

    def _run(
        self, args: Sequence[str], env: Mapping[str, str] | None
    ) -> subprocess.CompletedProcess[str]:
        return run_cli(["docker", *args], self.workdir, self.env(env), f"running docker {args[0]}")

    @staticmethod
    def _files(files: Sequence[Path]) -> list[str]:
        args: list[str] = []
        for path in files:
            args += ["-c", str(path)]
        return args

    def config(self, files: Sequence[Path], env: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The merged, interpolated stack (``docker stack config``); ConfigError if refused."""
        import yaml

        proc = self._run(["stack", "config", *self._files(files)], env)
        if proc.returncode != 0:
            reason = (proc.stderr or proc.stdout).strip().splitlines()
            raise ConfigError(
                "the compose files are not a valid swarm stack: "
                + ("; ".join(reason[-3:]) or f"exit {proc.returncode}"),
                "see docs/swarm.md for what a stack file must not contain",
            )
        data = yaml.safe_load(proc.stdout) or {}
        return data if isinstance(data, dict) else {}

    def deploy(
        self,
        stack: str,
        files: Sequence[Path],
        env: Mapping[str, str] | None = None,
        prune: bool = True,
        attempts: int = 3,
    ) -> str:
        args = ["stack", "deploy", "--with-registry-auth", "--resolve-image", "never"]
        if prune:
            args.append("--prune")
        args += [*self._files(files), stack]
        for attempt in range(attempts):
            proc = self._run(args, env)
            if proc.returncode == 0:
                return proc.stdout + proc.stderr
            retryable = _RETRYABLE.search(proc.stderr or proc.stdout)
            if attempt + 1 < attempts and retryable:
                time.sleep(1.0)  # a manager changed the service meanwhile: read it again
                continue
            raise step_failed("docker stack deploy", proc)
        raise StepFailed("docker stack deploy failed")
