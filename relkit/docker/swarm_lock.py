"""The deploy lock of a swarm stack, held as a swarm config (see :mod:`swarm_state`).

Taking it: create the config ``relkit-lock-<namespace>``; the raft store lets
exactly one create of a name succeed. Holding it: a thread renews the lease
every lease/4 seconds by rewriting the ``org.relkit.lock.beat`` label with the
version it last read (``ConfigUpdate`` refuses a stale version and a removed
config, so a holder whose lock was broken notices and stops). Stale: the
manager's ``UpdatedAt`` of the config is older than the lease, or the holder ran
on this host and its pid is gone (a SIGKILLed run). Breaking a stale lock
removes the config *by id*, so a lock someone else took meanwhile survives.
"""

from __future__ import annotations

from typing import Any

from relkit.docker.client import engine_errors
from relkit.docker.lease import (
    DEFAULT_LEASE,
    HeldLock,
    LockInfo,
    LockStore,
    from_labels,
    take,
    to_labels,
)
from relkit.docker.swarm import manager_skew, parse_time
from relkit.docker.swarm_state import lock_config_name

_P = "org.relkit.lock."


def _info(namespace: str, raw: dict[str, Any], skew: float) -> LockInfo:
    labels = (raw.get("Spec") or {}).get("Labels") or {}
    try:
        beat: float | None = parse_time(raw.get("UpdatedAt", "")) + skew
    except ValueError:
        beat = None
    # the lock's id is the id of its config
    return from_labels(namespace, labels, beat, raw.get("ID", ""))


def _raw(client: Any, namespace: str) -> dict[str, Any] | None:
    name = lock_config_name(namespace)
    with engine_errors("reading the deploy lock"):
        found = client.api.configs(filters={"name": name})
    exact = [c for c in found if (c.get("Spec") or {}).get("Name") == name]
    return exact[0] if exact else None


def inspect(client: Any, namespace: str) -> LockInfo | None:
    raw = _raw(client, namespace)
    return None if raw is None else _info(namespace, raw, manager_skew(client))


def _renew(client: Any, config_id: str, beat: int) -> None:
    """Rewrite the beat label; raises docker's APIError when the lock changed or is gone."""
    api = client.api
    current = api.inspect_config(config_id)
    spec = dict(current["Spec"])
    spec["Labels"] = {**(spec.get("Labels") or {}), _P + "beat": str(beat)}
    response = api._post_json(  # docker-py has no ConfigUpdate: the documented endpoint
        api._url("/configs/{0}/update", config_id),
        data=spec,
        params={"version": current["Version"]["Index"]},
    )
    api._raise_for_status(response)


class SwarmLock(HeldLock):
    """A held lock; ``release()`` frees it, a thread renews the lease meanwhile."""

    min_interval = 0.5
    thread_name = "relkit-swarm-lease"

    def __init__(self, client: Any, info: LockInfo, owned: bool) -> None:
        super().__init__(info, owned)
        self.client = client

    def _renew(self, count: int) -> str | None:
        import docker.errors

        try:
            _renew(self.client, self.info.container_id, count)
        except docker.errors.NotFound:
            return "the lock was removed while this run held it"
        return None

    def _remove(self) -> None:
        import docker.errors

        with engine_errors("releasing the deploy lock"):
            try:
                self.client.api.remove_config(self.info.container_id)
            except docker.errors.NotFound:
                pass


def _remove_by_id(client: Any, config_id: str) -> None:
    import docker.errors

    try:
        client.api.remove_config(config_id)
    except docker.errors.NotFound:
        pass


def acquire(
    client: Any,
    namespace: str,
    purpose: str,
    lease: float | None = DEFAULT_LEASE,
    token: str | None = None,
) -> SwarmLock:
    """Take the lock of *namespace* or raise :class:`LockHeld` naming the holder."""
    import docker.errors

    def create(info: LockInfo) -> SwarmLock | None:
        name = lock_config_name(namespace)
        try:
            created = client.api.create_config(
                name, b"relkit deploy lock\n", labels=to_labels(info)
            )
        except docker.errors.APIError as exc:
            if exc.status_code == 409:
                return None
            raise
        config_id = created["ID"] if isinstance(created, dict) else str(created)
        held = LockInfo(**{**info.__dict__, "container_id": config_id})
        return SwarmLock(client, held, owned=True)

    store = LockStore(
        find=lambda: inspect(client, namespace),
        join=lambda current: SwarmLock(client, current, owned=False),
        remove=lambda lock_id: _remove_by_id(client, lock_id),
        create=create,
    )
    with engine_errors("taking the deploy lock"):
        return take(store, namespace, purpose, lease, token)


def force_release(client: Any, namespace: str) -> LockInfo | None:
    """Remove the lock of *namespace* whoever holds it; returns what was removed."""
    import docker.errors

    current = inspect(client, namespace)
    if current is None:
        return None
    with engine_errors("removing the deploy lock"):
        try:
            client.api.remove_config(current.container_id)
        except docker.errors.NotFound:
            return None
    return current
