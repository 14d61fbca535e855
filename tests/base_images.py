"""Base images for Docker tests, built without pulling anything.

- busybox: FROM scratch, the host's static busybox plus a link per applet.
- Debian (``debootstrap --variant=minbase --include=...`` then ``docker
  import``) and the postgres stand-in: the example stack's own offline tooling,
  examples/stack/offline/standins.py, loaded from there so that the demo and
  the tests build (and cache) the very same images.

All are cached in the engine under a tag derived from what went into them,
and a file lock keeps concurrent test runs from building one twice.
"""

from __future__ import annotations

import fcntl
import importlib.util
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors

BASE_LABEL_KEY = "relkit.test.base"


STANDINS_PATH = Path(__file__).resolve().parent.parent / "examples/stack/offline/standins.py"


def _load_standins() -> Any:
    name = "relkit_example_standins"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, STANDINS_PATH)
    assert spec is not None and spec.loader is not None, STANDINS_PATH
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


standins = _load_standins()
BaseImageUnavailable: type[Exception] = standins.Unavailable
BaseImageError: type[Exception] = standins.BuildFailed
content_tag = standins.content_tag
debian_mirror_from_sources = standins.debian_mirror_from_sources
debian_suite = standins.debian_suite
StackBases = standins.StackBases


def image_exists(client: docker.DockerClient, ref: str) -> bool:
    try:
        client.images.get(ref)
    except docker.errors.ImageNotFound:
        return False
    return True


@dataclass
class BuildLock:
    """Serialises building one base image across concurrent pytest runs."""

    name: str

    def __enter__(self) -> BuildLock:
        path = Path(tempfile.gettempdir()) / f"relkit-test-{self.name}.lock"
        self._file = path.open("w")
        fcntl.flock(self._file, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()


BUSYBOX_DOCKERFILE = """\
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin
LABEL {base_label}=busybox
CMD ["sh"]
"""

BUSYBOX_ETC = {
    "etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
    "etc/group": "root:x:0:\nnobody:x:65534:\n",
}


def find_static_busybox() -> Path:
    found = os.environ.get("RELKIT_BUSYBOX") or shutil.which("busybox")
    if not found:
        raise BaseImageUnavailable("busybox not found — apt-get install busybox-static")
    return Path(found).resolve()


def busybox_context(busybox: Path) -> bytes:
    """A build context: Dockerfile plus a root fs of busybox and its applet links."""
    applets = subprocess.run(
        [str(busybox), "--list-full"], check=True, capture_output=True, text=True
    ).stdout.split()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:

        def add(name: str, data: bytes = b"", mode: int = 0o644, **kwargs: object) -> None:
            info = tarfile.TarInfo(name)
            info.mode = mode
            for key, value in kwargs.items():
                setattr(info, key, value)
            info.size = len(data) if info.type == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(data) if info.size else None)

        dockerfile = BUSYBOX_DOCKERFILE.format(base_label=BASE_LABEL_KEY)
        add("Dockerfile", dockerfile.encode())
        for directory in ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "root", "var"):
            add(f"rootfs/{directory}", mode=0o755, type=tarfile.DIRTYPE)
        add("rootfs/tmp", mode=0o1777, type=tarfile.DIRTYPE)
        for path, text in BUSYBOX_ETC.items():
            add(f"rootfs/{path}", text.encode())
        add("rootfs/bin/busybox", busybox.read_bytes(), mode=0o755)
        for applet in applets:
            if applet != "bin/busybox":
                add(f"rootfs/{applet}", type=tarfile.SYMTYPE, linkname="/bin/busybox")
    return buffer.getvalue()


def ensure_busybox_image(client: docker.DockerClient) -> str:
    """Tag of the busybox image, built unless the engine has it already."""
    context = busybox_context(find_static_busybox())
    tag = f"relkit-test/busybox:{content_tag(context)}"
    with BuildLock("busybox"):
        if not image_exists(client, tag):
            client.images.build(fileobj=io.BytesIO(context), custom_context=True, tag=tag, rm=True)
    return tag


def ensure_debian_image(client: docker.DockerClient, suite: str, include: Sequence[str]) -> str:
    """Tag of a Debian image with ``include``, debootstrapped unless cached.

    ``client`` is unused: the shared code drives the docker CLI, which reads
    the same DOCKER_HOST as the SDK.
    """
    return str(standins.ensure_debian_image(suite, include))


def ensure_stack_bases(client: docker.DockerClient, suite: str) -> Any:
    """The example stack's offline bases (a StackBases: python, postgres)."""
    return standins.ensure_stack_bases(suite)
