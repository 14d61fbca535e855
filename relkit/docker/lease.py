"""What the two deploy locks share: who holds one, when it is stale, how it is taken.

A lock is a record with labels under ``org.relkit.lock.``; the drivers only
store it: :mod:`relkit.docker.lock` as a named container on one engine,
:mod:`relkit.docker.swarm_lock` as a swarm config. Both get the same holder
description, the same staleness rule, the same heartbeat thread and the same
take-or-break loop from here.
"""

from __future__ import annotations

import getpass
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from relkit.docker.state import LABEL
from relkit.errors import LockHeld

TOKEN_ENV = "RELKIT_LOCK_TOKEN"
DEFAULT_LEASE = 60.0
_P = "org.relkit.lock."
_ATTEMPTS = 8  # sleeps of 0.04 .. 0.5 s between them: about 2 s in all


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
    container_id: str = ""  # the id of what stores the lock (a container or a config)

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


def from_labels(
    namespace: str, labels: Mapping[str, str], heartbeat: float | None, lock_id: str
) -> LockInfo:
    """The lock that *labels* describe; *lock_id* names what stores it."""
    lease = labels.get(_P + "lease", "")
    return LockInfo(
        namespace=namespace,
        token=labels.get(_P + "token", ""),
        owner=labels.get(_P + "owner", "?"),
        host=labels.get(_P + "host", "?"),
        pid=int(labels.get(_P + "pid", "0") or 0),
        since=labels.get(_P + "since", datetime.now(UTC).isoformat()),
        purpose=labels.get(_P + "purpose", ""),
        lease=float(lease) if lease else None,
        heartbeat=heartbeat,
        container_id=lock_id,
    )


def to_labels(info: LockInfo) -> dict[str, str]:
    return {
        LABEL: "lock",
        _P + "namespace": info.namespace,
        _P + "token": info.token,
        _P + "owner": info.owner,
        _P + "host": info.host,
        _P + "pid": str(info.pid),
        _P + "since": info.since,
        _P + "purpose": info.purpose,
        _P + "lease": "" if info.lease is None else f"{info.lease:g}",
    }


class HeldLock:
    """A held lock; ``release()`` frees it, a thread keeps it fresh meanwhile.

    The drivers say how to renew (``_renew``) and remove (``_remove``) it.
    """

    min_interval = 1.0
    thread_name = "relkit-lock-heartbeat"

    def __init__(self, info: LockInfo, owned: bool) -> None:
        self.info = info
        self.owned = owned  # False when we run inside a parent's lock
        self.broken: str | None = None  # why a stale lock was broken to get this one
        self.lost: str | None = None  # set when a renewal found the lock gone
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _renew(self, count: int) -> str | None:
        """Renew the lease once; a reason when the lock is gone (renewals stop)."""
        raise NotImplementedError

    def _remove(self) -> None:
        raise NotImplementedError

    def start_heartbeat(self) -> None:
        if not self.owned or self.info.lease is None:
            return
        interval = max(self.min_interval, self.info.lease / 4)

        def beat() -> None:
            count = 0
            while not self._stop.wait(interval):
                count += 1
                try:
                    self.lost = self._renew(count)
                except Exception:
                    continue  # a missed beat is retried; the lease tolerates a few
                if self.lost is not None:
                    return

        self._thread = threading.Thread(target=beat, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop_heartbeat(self) -> None:
        self._stop.set()

    def env(self) -> dict[str, str]:
        """Environment for child processes, so they run inside this lock."""
        return {TOKEN_ENV: self.info.token}

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.owned:
            self._remove()


L = TypeVar("L", bound=HeldLock)


@dataclass(frozen=True)
class LockStore(Generic[L]):
    """How one driver reads, breaks and creates the lock of a namespace."""

    find: Callable[[], LockInfo | None]
    join: Callable[[LockInfo], L]  # the lock of a parent run, not owned
    remove: Callable[[str], None]  # by id; an id already gone is no error
    create: Callable[[LockInfo], L | None]  # None: someone else was faster


def take(
    store: LockStore[L],
    namespace: str,
    purpose: str,
    lease: float | None,
    token: str | None,
) -> L:
    """Take the lock of *namespace* or raise :class:`LockHeld` naming the holder.

    A stale lock is broken (removed by id, so a lock that someone else took in
    the meantime is never removed by mistake) and taken.
    """
    inherited = token if token is not None else os.environ.get(TOKEN_ENV)
    broken: str | None = None
    # A create that loses the race (409) can be followed by a find that sees
    # nothing yet: the engine reserves a name before the container (or config)
    # is listed. Look again, a little later each time, for about two seconds.
    for attempt in range(_ATTEMPTS):
        if attempt:
            time.sleep(min(0.02 * 2**attempt, 0.5))
        current = store.find()
        if current is not None:
            if inherited and current.token == inherited:
                return store.join(current)
            reason = current.stale_reason()
            if reason is None:
                raise LockHeld(
                    f"{namespace} is locked by {current.describe()}",
                    "wait for it to finish, or 'relkit unlock' it if that run is gone",
                )
            store.remove(current.container_id)
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
        lock = store.create(info)
        if lock is None:
            continue  # someone else was faster: look again
        lock.broken = broken
        lock.start_heartbeat()
        return lock
    # Every create lost to another run whose lock never became readable: it
    # is held all the same, by a run that is still starting.
    raise LockHeld(
        f"{namespace} is locked by another run that is taking it right now",
        "wait for it to finish, then try again",
    )
