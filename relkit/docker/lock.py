"""The deploy lock of one target, held as a named container on its engine.

See :mod:`relkit.docker.state` for why a container: creating one with a given
name is atomic, so two machines racing for the lock get one winner. The holder
refreshes a heartbeat file inside the container; a lock whose heartbeat is older
than its lease (or whose holder process is gone, when it ran on this host) is
stale and may be broken. A manual lock (``relkit lock ENV``) has no lease.

Processes started by a lock holder (hooks, compose) get ``RELKIT_LOCK_TOKEN``;
a relkit started with the token of the current lock runs inside it instead of
waiting for itself.
"""

from __future__ import annotations

import getpass
import io
import os
import socket
import tarfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from relkit.docker.client import engine_errors
from relkit.docker.state import LABEL, LOCK_PREFIX, STATE_IMAGE, ensure_state_image
from relkit.errors import LockHeld, RelkitError

TOKEN_ENV = "RELKIT_LOCK_TOKEN"
DEFAULT_LEASE = 60.0


@dataclass(frozen=True)
class LockInfo:
    namespace: str
    token: str
    owner: str
    host: str
    pid: int
    since: str
    purpose: str
    lease: float | None  # None: manual lock, never stale
    heartbeat: float | None = None  # epoch seconds of the last heartbeat
    container_id: str = ""

    def age(self, now: float | None = None) -> float:
        now = time.time() if now is None else now
        return now - datetime.fromisoformat(self.since).timestamp()

    def stale_reason(self, now: float | None = None) -> str | None:
        """Why this lock is stale, or None while its holder looks alive."""
        now = time.time() if now is None else now
        if self.lease is None:
            return None
        if self.host == socket.gethostname() and not _pid_alive(self.pid):
            return f"its holder (pid {self.pid} on {self.host}) is no longer running"
        last = self.heartbeat or datetime.fromisoformat(self.since).timestamp()
        if now - last > self.lease:
            return f"no heartbeat for {now - last:.0f}s (lease {self.lease:.0f}s)"
        return None

    def describe(self) -> str:
        return f"{self.owner} on {self.host} (pid {self.pid}) since {self.since} for {self.purpose}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def who() -> str:
    actor = os.environ.get("GITHUB_ACTOR") or os.environ.get("GITLAB_USER_LOGIN")
    if actor:
        return f"{actor} (CI)"
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


def _container_name(namespace: str) -> str:
    return f"{LOCK_PREFIX}{namespace}"


def _info(namespace: str, container: Any) -> LockInfo:
    labels = container.labels or {}
    lease = labels.get("org.relkit.lock.lease", "")
    return LockInfo(
        namespace=namespace,
        token=labels.get("org.relkit.lock.token", ""),
        owner=labels.get("org.relkit.lock.owner", "?"),
        host=labels.get("org.relkit.lock.host", "?"),
        pid=int(labels.get("org.relkit.lock.pid", "0") or 0),
        since=labels.get("org.relkit.lock.since", datetime.now(UTC).isoformat()),
        purpose=labels.get("org.relkit.lock.purpose", ""),
        lease=float(lease) if lease else None,
        heartbeat=_heartbeat(container),
        container_id=container.id,
    )


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


class Lock:
    """A held lock; ``release()`` frees it, the heartbeat thread keeps it fresh."""

    def __init__(self, client: Any, info: LockInfo, owned: bool, container: Any) -> None:
        self.client = client
        self.info = info
        self.owned = owned  # False when we run inside a parent's lock
        self.container = container
        self.broken: str | None = None  # why a stale lock was broken to get this one
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start_heartbeat(self) -> None:
        if not self.owned or self.info.lease is None:
            return
        interval = max(1.0, self.info.lease / 4)

        def beat() -> None:
            while not self._stop.wait(interval):
                try:
                    _put_heartbeat(self.container)
                except Exception:
                    pass  # a missed beat is retried; the lease tolerates a few

        self._thread = threading.Thread(target=beat, name="relkit-lock-heartbeat", daemon=True)
        self._thread.start()

    def env(self) -> dict[str, str]:
        """Environment for child processes, so they run inside this lock."""
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
                self.container.remove(force=True)
            except docker.errors.NotFound:
                pass


def acquire(
    client: Any,
    namespace: str,
    purpose: str,
    lease: float | None = DEFAULT_LEASE,
    token: str | None = None,
) -> Lock:
    """Take the lock of *namespace* or raise :class:`LockHeld` naming the holder.

    A stale lock is broken (its container removed by id, so a lock that someone
    else took in the meantime is never removed by mistake) and taken.
    """
    import docker.errors

    inherited = token if token is not None else os.environ.get(TOKEN_ENV)
    broken: str | None = None
    with engine_errors("taking the deploy lock"):
        ensure_state_image(client)
        for _ in range(3):
            current = inspect(client, namespace)
            if current is not None:
                if inherited and current.token == inherited:
                    container = client.containers.get(current.container_id)
                    return Lock(client, current, owned=False, container=container)
                reason = current.stale_reason()
                if reason is None:
                    raise LockHeld(
                        f"{namespace} is locked by {current.describe()}",
                        "wait for it to finish, or 'relkit unlock' it if that run is gone",
                    )
                try:
                    client.api.remove_container(current.container_id, force=True)
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
                "org.relkit.lock.namespace": namespace,
                "org.relkit.lock.token": info.token,
                "org.relkit.lock.owner": info.owner,
                "org.relkit.lock.host": info.host,
                "org.relkit.lock.pid": str(info.pid),
                "org.relkit.lock.since": info.since,
                "org.relkit.lock.purpose": purpose,
                "org.relkit.lock.lease": "" if lease is None else f"{lease:g}",
            }
            try:
                container = client.containers.create(
                    STATE_IMAGE,
                    name=_container_name(namespace),
                    labels=labels,
                    network_disabled=True,
                )
            except docker.errors.APIError as exc:
                if exc.status_code == 409:
                    continue  # someone else was faster: look again
                raise
            if lease is not None:
                _put_heartbeat(container)
            lock = Lock(client, info, owned=True, container=container)
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
            client.api.remove_container(current.container_id, force=True)
        except docker.errors.NotFound:
            return None
    return current
