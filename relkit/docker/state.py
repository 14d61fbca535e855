"""relkit's state on a single Docker engine: release records and deploy locks.

The record lives with the target, not with the machine that ran relkit (a CI
runner is gone after its job). On a plain engine relkit keeps:

* ``relkit-state``: a named volume holding JSON documents, one per release
  record, under ``/<namespace>/``. Named volumes survive ``docker compose down``
  (the volume is not part of any compose project) and ``docker system prune``.
* ``relkit-state``: a container created (never started) from ``relkit/state``, a
  label-only image built FROM scratch on the engine itself, that mounts the volume
  so relkit can read and write files through the engine's archive API — no
  image pull, no process, and it works the same through ``ssh://`` or ``tcp://``.
* ``relkit-lock-<namespace>``: the lock of one deploy target. Creating a
  container with a given name is atomic on the engine, so of two machines racing
  for it exactly one wins. Its labels name the owner, host, pid and time; the
  holder writes a heartbeat file into it while it works, so a lock whose
  heartbeat is older than its lease is stale.

The record and the lock are keyed by a namespace: the compose project name.
"""

from __future__ import annotations

import io
import json
import tarfile
import time
from typing import Any

from relkit.docker.client import engine_errors
from relkit.errors import DockerError

STATE_IMAGE = "relkit/state:1"
STATE_VOLUME = "relkit-state"
STATE_CONTAINER = "relkit-state"
LOCK_PREFIX = "relkit-lock-"
LABEL = "org.relkit.state"
_DOCKERFILE = b'FROM scratch\nLABEL org.relkit.state="image"\nCMD ["/relkit-state"]\n'


def _tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    now = time.time()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = int(now)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _untar(chunks: Any) -> dict[str, bytes]:
    raw = b"".join(chunks)
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(raw)) as archive:
        for member in archive.getmembers():
            if member.isfile():
                handle = archive.extractfile(member)
                if handle is not None:
                    out[member.name] = handle.read()
    return out


def ensure_state_image(client: Any) -> None:
    import docker.errors

    try:
        client.images.get(STATE_IMAGE)
        return
    except docker.errors.ImageNotFound:
        pass
    with engine_errors("building relkit's state image"):
        client.images.build(
            fileobj=io.BytesIO(_tar({"Dockerfile": _DOCKERFILE})),
            custom_context=True,
            tag=STATE_IMAGE,
            rm=True,
            labels={LABEL: "image"},
        )


class EngineStore:
    """JSON documents in the ``relkit-state`` volume of one engine."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._container: Any = None

    def _state_container(self) -> Any:
        import docker.errors

        if self._container is not None:
            return self._container
        with engine_errors("opening relkit's state on the engine"):
            try:
                self._container = self.client.containers.get(STATE_CONTAINER)
                return self._container
            except docker.errors.NotFound:
                pass
            ensure_state_image(self.client)
            volumes = self.client.volumes.list(filters={"name": STATE_VOLUME})
            if not any(v.name == STATE_VOLUME for v in volumes):
                self.client.volumes.create(STATE_VOLUME, labels={LABEL: "volume"})
            try:
                self._container = self.client.containers.create(
                    STATE_IMAGE,
                    name=STATE_CONTAINER,
                    labels={LABEL: "container"},
                    volumes={STATE_VOLUME: {"bind": "/state", "mode": "rw"}},
                    network_disabled=True,
                )
            except docker.errors.APIError as exc:
                if exc.status_code != 409:
                    raise
                self._container = self.client.containers.get(STATE_CONTAINER)
        return self._container

    def write(self, namespace: str, name: str, document: dict[str, Any]) -> None:
        data = json.dumps(document, indent=1, sort_keys=True).encode()
        container = self._state_container()
        with engine_errors("writing a release record"):
            if not container.put_archive("/state", _tar({f"{namespace}/{name}": data})):
                raise DockerError(f"the engine refused to store record {namespace}/{name}")

    def read_all(self, namespace: str) -> dict[str, dict[str, Any]]:
        import docker.errors

        container = self._state_container()
        with engine_errors("reading release records"):
            try:
                stream, _ = container.get_archive(f"/state/{namespace}")
            except docker.errors.NotFound:
                return {}
            files = _untar(stream)
        out: dict[str, dict[str, Any]] = {}
        for path, data in files.items():
            name = path.rsplit("/", 1)[-1]
            if name.endswith(".json"):
                try:
                    out[name] = json.loads(data)
                except json.JSONDecodeError:
                    continue
        return out
