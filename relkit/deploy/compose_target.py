"""The compose driver's target: one engine, one compose project."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from relkit.config import Config, EnvironmentConfig
from relkit.deploy import records as rec
from relkit.deploy.compose import ComposeDriver, ComposeProject
from relkit.deploy.composefile import service_names
from relkit.deploy.health import wait_healthy
from relkit.deploy.records import ReleaseRecord
from relkit.docker import lock as engine_lock
from relkit.docker.client import connect_client as connect
from relkit.docker.containers import ContainerState, project_containers
from relkit.docker.lease import LockInfo
from relkit.docker.state import EngineStore


def namespace_of(config: Config, env: EnvironmentConfig) -> str:
    return env.project or env.stack or f"{config.root.name}-{env.name}".lower()


class ComposeTarget:
    def __init__(self, config: Config, env: EnvironmentConfig, client: Any = None) -> None:
        self.config = config
        self.env = env
        self.namespace = namespace_of(config, env)
        self.client = client if client is not None else connect(env.docker_host or None)
        self.store = EngineStore(self.client)
        self._driver: ComposeDriver | None = None
        self.settle = env.health_settle

    @property
    def driver(self) -> ComposeDriver:
        if self._driver is None:
            project = ComposeProject(
                root=self.config.root,
                project=self.namespace,
                files=self.env.compose_files,
                docker_host=self.env.docker_host,
            )
            self._driver = ComposeDriver(project)
        return self._driver

    def one_off_services(self) -> set[str]:
        names = {*self.env.pre_deploy}
        if self.env.migrate:
            names.add(self.env.migrate)
        if self.env.restore:
            names.add(self.env.restore)
        return names

    def long_running(self) -> list[str]:
        skip = self.one_off_services()
        names = service_names(self.config.root, self.env.compose_files)
        return [name for name in names if name not in skip]

    def records(self) -> list[ReleaseRecord]:
        docs = self.store.read_all(self.namespace)
        return rec.ordered(ReleaseRecord.from_dict(doc) for doc in docs.values())

    def save(self, record: ReleaseRecord) -> None:
        self.store.write(self.namespace, f"{record.id}.json", record.as_dict())

    def lock(self, purpose: str) -> engine_lock.Lock:
        return engine_lock.acquire(self.client, self.namespace, purpose)

    def hold(self, purpose: str) -> engine_lock.Lock:
        """A manual lock without a lease (``relkit lock``)."""
        held = engine_lock.acquire(self.client, self.namespace, purpose, lease=None)
        held._stop.set()
        return held

    def lock_info(self) -> LockInfo | None:
        return engine_lock.inspect(self.client, self.namespace)

    def force_unlock(self) -> LockInfo | None:
        return engine_lock.force_release(self.client, self.namespace)

    def pin(self, pins: Mapping[str, str]) -> None:
        self.driver.pin(pins)

    def run_once(self, service: str, env: Mapping[str, str]) -> str:
        return self.driver.run_once(service, env)

    def rollout(self, pins: Mapping[str, str], env: Mapping[str, str]) -> None:
        self.driver.pin(pins)
        self.driver.up(self.long_running(), env)

    def snapshot(self) -> list[ContainerState]:
        return project_containers(self.client, self.namespace)

    def wait_healthy(self, timeout: float, on_wait: Callable[[list[str]], None]) -> None:
        wait_healthy(self.snapshot, self.long_running(), timeout, self.settle, on_wait=on_wait)

    def close(self) -> None:
        if self._driver is not None:
            self._driver.close()
