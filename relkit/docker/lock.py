"""The deploy lock of one target, held as a named container on its engine.

See :mod:`relkit.docker.state` for why a container: creating one with a given
name is atomic, so two machines racing for the lock get one winner. The holder
refreshes a heartbeat file inside the container; a lock whose heartbeat is older
than its lease (or whose holder process is gone, when it ran on this host) is
stale and may be broken. A manual lock (``relkit lock ENV``) has no lease.
What both lock drivers share (the holder, staleness, the take loop) is in
:mod:`relkit.docker.lease`.

Processes started by a lock holder (hooks, compose) get ``RELKIT_LOCK_TOKEN``;
a relkit started with the token of the current lock runs inside it instead of
waiting for itself.
"""

from __future__ import annotations

import io
import tarfile
import time
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
from relkit.docker.state import LOCK_PREFIX, STATE_IMAGE, ensure_state_image


def _container_name(namespace: str) -> str:
    return f"{LOCK_PREFIX}{namespace}"


def _info(namespace: str, container: Any) -> LockInfo:
    return from_labels(namespace, container.labels or {}, _heartbeat(container), container.id)


def _heartbeat(container: Any) -> float | None:
    import docker.errors

    try:
        stream, _ = container.get_archive("/heartbeat")
        raw = b"".join(stream)
    except docker.errors.NotFound:
        return None
    with tarfile.open(fileobj=io.BytesIO(raw)) as archive:
        for member in archive.getmembers():
            handle = archive.extractfile(member)
            if handle is not None:
                try:
                    return float(handle.read().decode().strip())
                except ValueError:
                    return None
    return None


def _put_heartbeat(container: Any) -> None:
    data = f"{time.time():.3f}\n".encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("heartbeat")
        info.size = len(data)
        info.mtime = int(time.time())
        archive.addfile(info, io.BytesIO(data))
    container.put_archive("/", buffer.getvalue())


def inspect(client: Any, namespace: str) -> LockInfo | None:
    import docker.errors

    with engine_errors("reading the deploy lock"):
        try:
            return _info(namespace, client.containers.get(_container_name(namespace)))
        except docker.errors.NotFound:
            return None


class Lock(HeldLock):
    """A held lock; ``release()`` frees it, the heartbeat thread keeps it fresh."""

    def __init__(self, info: LockInfo, owned: bool, container: Any) -> None:
        super().__init__(info, owned)
        self.container = container

    def _renew(self, count: int) -> str | None:
        _put_heartbeat(self.container)
        return None

    def _remove(self) -> None:
        import docker.errors

        with engine_errors("releasing the deploy lock"):
            try:
                self.container.remove(force=True)
            except docker.errors.NotFound:
                pass


def _remove_by_id(client: Any, container_id: str) -> None:
    import docker.errors

    try:
        client.api.remove_container(container_id, force=True)
    except docker.errors.NotFound:
        pass


def acquire(
    client: Any,
    namespace: str,
    purpose: str,
    lease: float | None = DEFAULT_LEASE,
    token: str | None = None,
) -> Lock:
    """Take the lock of *namespace* or raise :class:`LockHeld` naming the holder."""
    import docker.errors

    def create(info: LockInfo) -> Lock | None:
        try:
            container = client.containers.create(
                STATE_IMAGE,
                name=_container_name(namespace),
                labels=to_labels(info),
                network_disabled=True,
            )
        except docker.errors.APIError as exc:
            if exc.status_code == 409:
                return None
            raise
        if lease is not None:
            _put_heartbeat(container)
        return Lock(info, owned=True, container=container)

    store = LockStore(
        find=lambda: inspect(client, namespace),
        join=lambda current: Lock(
            current, owned=False, container=client.containers.get(current.container_id)
        ),
        remove=lambda lock_id: _remove_by_id(client, lock_id),
        create=create,
    )
    with engine_errors("taking the deploy lock"):
        ensure_state_image(client)
        return take(store, namespace, purpose, lease, token)


def force_release(client: Any, namespace: str) -> LockInfo | None:
    """Remove the lock of *namespace* whoever holds it; returns what was removed."""
    import docker.errors

    current = inspect(client, namespace)
    if current is None:
        return None
    with engine_errors("removing the deploy lock"):
        try:
            client.api.remove_container(current.container_id, force=True)
        except docker.errors.NotFound:
            return None
    return current
