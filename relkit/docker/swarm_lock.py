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

import os
import socket
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from relkit.docker.client import engine_errors
from relkit.docker.lock import DEFAULT_LEASE, TOKEN_ENV, LockInfo, who
from relkit.docker.swarm import manager_skew, parse_time
from relkit.docker.swarm_state import LABEL, lock_config_name
from relkit.errors import LockHeld, RelkitError

_P = "org.relkit.lock."


def _info(namespace: str, raw: dict[str, Any], skew: float) -> LockInfo:
    labels = (raw.get("Spec") or {}).get("Labels") or {}
    lease = labels.get(_P + "lease", "")
    try:
        beat: float | None = parse_time(raw.get("UpdatedAt", "")) + skew
    except ValueError:
        beat = None
    return LockInfo(
        namespace=namespace,
        token=labels.get(_P + "token", ""),
        owner=labels.get(_P + "owner", "?"),
        host=labels.get(_P + "host", "?"),
        pid=int(labels.get(_P + "pid", "0") or 0),
        since=labels.get(_P + "since", datetime.now(UTC).isoformat()),
        purpose=labels.get(_P + "purpose", ""),
        lease=float(lease) if lease else None,
        heartbeat=beat,
        container_id=raw.get("ID", ""),  # here: the id of the lock's config
    )


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


class SwarmLock:
    """A held lock; ``release()`` frees it, a thread renews the lease meanwhile."""

    def __init__(self, client: Any, info: LockInfo, owned: bool) -> None:
        self.client = client
        self.info = info
        self.owned = owned  # False when we run inside a parent's lock
        self.broken: str | None = None
        self.lost: str | None = None  # set when a renewal found the lock gone
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start_heartbeat(self) -> None:
        if not self.owned or self.info.lease is None:
            return
        interval = max(0.5, self.info.lease / 4)

        def beat() -> None:
            import docker.errors

            count = 0
            while not self._stop.wait(interval):
                count += 1
                try:
                    _renew(self.client, self.info.container_id, count)
                except docker.errors.NotFound:
                    self.lost = "the lock was removed while this run held it"
                    return
                except Exception:
                    pass  # a missed renewal is retried; the lease tolerates a few

        self._thread = threading.Thread(target=beat, name="relkit-swarm-lease", daemon=True)
        self._thread.start()

    def stop_heartbeat(self) -> None:
        self._stop.set()

    def env(self) -> dict[str, str]:
        return {TOKEN_ENV: self.info.token}

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if not self.owned:
            return
        import docker.errors

        with engine_errors("releasing the deploy lock"):
            try:
                self.client.api.remove_config(self.info.container_id)
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

    inherited = token if token is not None else os.environ.get(TOKEN_ENV)
    broken: str | None = None
    name = lock_config_name(namespace)
    with engine_errors("taking the deploy lock"):
        for _ in range(3):
            current = inspect(client, namespace)
            if current is not None:
                if inherited and current.token == inherited:
                    return SwarmLock(client, current, owned=False)
                reason = current.stale_reason()
                if reason is None:
                    raise LockHeld(
                        f"{namespace} is locked by {current.describe()}",
                        "wait for it to finish, or 'relkit unlock' it if that run is gone",
                    )
                try:
                    client.api.remove_config(current.container_id)
                except docker.errors.NotFound:
                    pass
                broken = f"broke a stale lock of {current.describe()}: {reason}"
            info = LockInfo(
                namespace=namespace,
                token=uuid.uuid4().hex,
                owner=who(),
                host=socket.gethostname(),
                pid=os.getpid(),
                since=datetime.now(UTC).isoformat(timespec="seconds"),
                purpose=purpose,
                lease=lease,
            )
            labels = {
                LABEL: "lock",
                _P + "namespace": namespace,
                _P + "token": info.token,
                _P + "owner": info.owner,
                _P + "host": info.host,
                _P + "pid": str(info.pid),
                _P + "since": info.since,
                _P + "purpose": purpose,
                _P + "lease": "" if lease is None else f"{lease:g}",
            }
            try:
                created = client.api.create_config(name, b"relkit deploy lock\n", labels=labels)
            except docker.errors.APIError as exc:
                if exc.status_code == 409:
                    continue  # someone else was faster: look again
                raise
            config_id = created["ID"] if isinstance(created, dict) else str(created)
            held = LockInfo(**{**info.__dict__, "container_id": config_id})
            lock = SwarmLock(client, held, owned=True)
            lock.broken = broken
            lock.start_heartbeat()
            return lock
    raise RelkitError(f"could not take the lock of {namespace}", "try again")


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
