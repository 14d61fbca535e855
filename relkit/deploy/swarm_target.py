"""The swarm driver's target: one stack on a swarm, deployed with ``docker stack deploy``.

* rollout: the environment's compose files, made stack-deployable
  (:mod:`relkit.deploy.stackfile`), plus relkit's override (images by digest,
  start-first, failure_action rollback, a monitor window that covers the
  healthcheck), deployed with ``--prune``; convergence is then watched through
  the SDK (:mod:`relkit.deploy.swarm_health`).
* run_once: a one-off service (pre_deploy, migrate, restore) runs as a
  ``replicated-job`` service of the same stack (its networks, volumes, secrets),
  waited to completion, its logs returned, then removed.
* records and lock: swarm configs (:mod:`relkit.docker.swarm_state`,
  :mod:`relkit.docker.swarm_lock`), visible from every manager.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from relkit.config import Config, EnvironmentConfig
from relkit.deploy import records as rec
from relkit.deploy import stackfile
from relkit.deploy.compose import StepFailed
from relkit.deploy.composefile import load
from relkit.deploy.records import ReleaseRecord
from relkit.deploy.stack import StackCLI
from relkit.deploy.swarm_health import Baseline, baseline, wait_converged
from relkit.docker import swarm, swarm_lock
from relkit.docker.client import connect_client
from relkit.docker.containers import ContainerState
from relkit.docker.lease import LockInfo
from relkit.docker.swarm_state import SwarmStore
from relkit.errors import ConfigError


def stack_name(config: Config, env: EnvironmentConfig) -> str:
    return env.stack or env.project or f"{config.root.name}-{env.name}".lower()


def _escape(value: str) -> str:
    return value.replace("$", "$$")  # stack files interpolate $VAR


class SwarmTarget:
    def __init__(self, config: Config, env: EnvironmentConfig, client: Any = None) -> None:
        self.config = config
        self.env = env
        self.namespace = stack_name(config, env)
        self.client = client if client is not None else connect_client(env.docker_host or None)
        swarm.ensure_manager(self.client)
        self.store = SwarmStore(self.client)
        self.on_warning: Callable[[str], None] | None = None
        self.settle = env.health_settle
        self.job_timeout = max(300.0, env.health_timeout * 5)
        self._tmp = tempfile.TemporaryDirectory(prefix="relkit-stack-")
        self._cli: StackCLI | None = None
        self._pins: dict[str, str] = {}
        self._wanted: list[str] = []
        self._before: dict[str, Baseline] = {}
        self._warned: set[str] = set()

    # -- files ------------------------------------------------------------

    @property
    def base(self) -> Path:
        return (self.config.root / self.env.compose_files[0]).parent

    @property
    def cli(self) -> StackCLI:
        if self._cli is None:
            self._cli = StackCLI(self.base, self.env.docker_host)
        return self._cli

    def one_off_services(self) -> list[str]:
        names = [*self.env.pre_deploy, self.env.migrate, self.env.restore]
        return [n for n in names if n]

    def _documents(self) -> list[dict[str, Any]]:
        return [load(self.config.root / name) for name in self.env.compose_files]

    def _write(self, tag: str, documents: list[dict[str, Any]]) -> list[Path]:
        import yaml

        paths = []
        for index, document in enumerate(documents):
            path = Path(self._tmp.name) / f"{tag}-{index}.yml"
            path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
            paths.append(path)
        return paths

    def _warn(self, text: str) -> None:
        if text not in self._warned and self.on_warning is not None:
            self._warned.add(text)
            self.on_warning(text)

    def pin(self, pins: Mapping[str, str]) -> None:
        """Images by digest for the one-off jobs that run before the rollout."""
        self._pins = dict(pins)

    def validate(self, env: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The merged stack, or ConfigError when ``docker stack`` would refuse the files."""
        files = stackfile.sanitize(self._documents(), self.base, self.one_off_services())
        for note in files.notes:
            self._warn(note)
        return self.cli.config(self._write("check", files.documents), env)

    def long_running(self) -> list[str]:
        """The services the stack runs (one-off jobs and profiled services left out)."""
        return [str(name) for name in self.validate().get("services") or {}]

    # -- records and lock -------------------------------------------------

    def records(self) -> list[ReleaseRecord]:
        docs = self.store.read_all(self.namespace)
        return rec.ordered(ReleaseRecord.from_dict(doc) for doc in docs.values())

    def save(self, record: ReleaseRecord) -> None:
        self.store.write(self.namespace, record.id, record.as_dict())

    def lock(self, purpose: str) -> swarm_lock.SwarmLock:
        self.validate()  # a file swarm refuses fails here, before anything changed
        return swarm_lock.acquire(self.client, self.namespace, purpose)

    def hold(self, purpose: str) -> swarm_lock.SwarmLock:
        """A manual lock without a lease (``relkit lock``)."""
        held = swarm_lock.acquire(self.client, self.namespace, purpose, lease=None)
        held.stop_heartbeat()
        return held

    def lock_info(self) -> LockInfo | None:
        return swarm_lock.inspect(self.client, self.namespace)

    def force_unlock(self) -> LockInfo | None:
        return swarm_lock.force_release(self.client, self.namespace)

    # -- rollout and convergence --------------------------------------------

    def rollout(self, pins: Mapping[str, str], env: Mapping[str, str]) -> None:
        files = stackfile.sanitize(self._documents(), self.base, self.one_off_services())
        for note in files.notes:
            self._warn(note)
        merged = self.cli.config(self._write("stack", files.documents), env)
        services: dict[str, Any] = merged.get("services") or {}
        pinned = {name: ref for name, ref in pins.items() if name in services}
        nodes = swarm.nodes(self.client)
        plans = {}
        for name, service in services.items():
            image = pinned.get(name) or str(service.get("image") or "")
            check = (
                None if service.get("healthcheck") else swarm.image_healthcheck(self.client, image)
            )
            plan = stackfile.plan_update(name, service, nodes, check, start_first=name in pinned)
            if plan is not None:
                plans[name] = plan
                for warning in plan.warnings:
                    self._warn(warning)
        version = files.documents[0].get("version") if files.documents else None
        override = stackfile.override_document(pinned, plans, str(version) if version else None)
        paths = self._write("stack", [*files.documents, override])
        self._pins = dict(pins)
        self._wanted = list(services)
        self._before = baseline(swarm.stack_services(self.client, self.namespace))
        self.cli.deploy(self.namespace, paths, env)

    def wait_healthy(self, timeout: float, on_wait: Callable[[list[str]], None]) -> None:
        pinned = {n: r for n, r in self._pins.items() if n in self._wanted}
        wait_converged(
            lambda: swarm.stack_services(self.client, self.namespace),
            self._wanted,
            self._before,
            pinned,
            timeout,
            self.settle,
            on_wait=on_wait,
        )

    # -- one-off jobs -------------------------------------------------------

    def run_once(self, service: str, env: Mapping[str, str]) -> str:
        documents = self._documents()
        if not any(service in (doc.get("services") or {}) for doc in documents):
            raise ConfigError(
                f"one-off service {service!r} is not in {', '.join(self.env.compose_files)}",
                "define it in the compose files or fix the environment's config",
            )
        files = stackfile.sanitize(documents, self.base, only=service)
        job: dict[str, Any] = {
            "environment": {k: _escape(v) for k, v in env.items()},
            "deploy": {
                "mode": "replicated-job",
                "replicas": 1,
                "restart_policy": {"condition": "none"},
            },
        }
        if service in self._pins:
            job["image"] = self._pins[service]
        version = files.documents[0].get("version") if files.documents else None
        override: dict[str, Any] = {"services": {service: job}}
        if version:
            override = {"version": version, **override}
        paths = self._write(f"job-{service}", [*files.documents, override])
        name = f"{self.namespace}_{service}"
        stale = swarm.find_service(self.client, name)
        if stale is not None:
            swarm.remove_service(self.client, stale.id)
        self.cli.deploy(self.namespace, paths, env, prune=False)
        return self._wait_job(service, name)

    def _wait_job(self, service: str, name: str) -> str:
        deadline = time.monotonic() + self.job_timeout
        state = None
        try:
            while time.monotonic() < deadline:
                state = swarm.find_service(self.client, name)
                tasks = state.tasks if state else ()
                if any(t.state == "complete" for t in tasks):
                    return swarm.service_logs(self.client, state.id) if state else ""
                failed = [t for t in tasks if t.state in ("failed", "rejected")]
                if failed and state is not None:
                    logs = swarm.service_logs(self.client, state.id).strip().splitlines()
                    reason = failed[-1].error or failed[-1].message
                    tail = "\n".join(logs[-8:])
                    raise StepFailed(
                        f"one-off service {service!r} failed: {reason}"
                        + (f"\n{tail}" if tail else "")
                    )
                time.sleep(0.5)
            raise StepFailed(f"one-off service {service!r} did not finish in {self.job_timeout:g}s")
        finally:
            if state is not None:
                swarm.remove_service(self.client, state.id)

    # -- status -------------------------------------------------------------

    def snapshot(self) -> list[ContainerState]:
        out = []
        for service in swarm.stack_services(self.client, self.namespace):
            tasks = [t for t in service.tasks if t.desired == "running"]
            for task in sorted(tasks, key=lambda t: (t.slot or 0, t.id)):
                health = None
                if task.state == "starting":
                    health = "starting"
                elif task.state == "running":
                    health = swarm.container_health(self.client, task.container_id) or (
                        "healthy" if service.has_healthcheck else None
                    )
                out.append(
                    ContainerState(
                        service=service.service,
                        name=f"{service.name}.{task.slot or task.node[:12]}",
                        status=task.state,
                        health=health,
                        restarts=0,
                        exit_code=task.exit_code or 0,
                        image_ref=task.image,
                        image_id="",
                        repo_digests=(),
                        last_health_output=task.error,
                    )
                )
        return out

    def close(self) -> None:
        self._tmp.cleanup()
