"""Base images for Docker tests, built without pulling anything.

- busybox: FROM scratch, the host's static busybox plus a link per applet.
- Debian: ``debootstrap --variant=minbase --include=...`` then ``docker import``.

Both are cached in the engine under a tag derived from what went into them,
and a file lock keeps concurrent test runs from building one twice.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors

BASE_LABEL_KEY = "relkit.test.base"


class BaseImageUnavailable(Exception):
    """This machine cannot build the image (missing tool, root, or mirror)."""


class BaseImageError(Exception):
    """Building the image failed."""


def content_tag(*parts: str | bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()[:16]


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


def apt_sources_text() -> str:
    texts = []
    for path in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]:
        if path.suffix in {".list", ".sources"} and path.is_file():
            texts.append(path.read_text(errors="replace"))
    return "\n".join(texts)


def debian_mirror_from_sources(text: str, suite: str) -> str | None:
    """The first URI serving ``suite`` (not -security/-updates) in apt sources.

    Understands one-line ``deb URI SUITE ...`` entries and deb822 stanzas.
    """
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        for raw in stanza.splitlines():
            line = raw.split("#", 1)[0].strip()
            if line.startswith("deb "):
                words = [w for w in line.split() if not w.startswith("[")]
                if len(words) >= 3 and words[2] == suite:
                    return words[1].rstrip("/")
            elif ":" in line and not line.startswith("deb"):
                key, _, value = line.partition(":")
                fields[key.strip().lower()] = value.strip()
        types = fields.get("types", "").split()
        if fields.get("enabled", "yes").lower() == "no":
            continue
        if "deb" in types and suite in fields.get("suites", "").split() and fields.get("uris"):
            return fields["uris"].split()[0].rstrip("/")
    return None


def host_codename() -> str | None:
    try:
        text = Path("/etc/os-release").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key == "VERSION_CODENAME" and value:
            return value.strip('"')
    return None


def debian_suite() -> str:
    return os.environ.get("RELKIT_DEBIAN_SUITE") or host_codename() or "bookworm"


def debian_mirror(suite: str) -> str:
    mirror = os.environ.get("RELKIT_DEBIAN_MIRROR") or debian_mirror_from_sources(
        apt_sources_text(), suite
    )
    if not mirror:
        raise BaseImageUnavailable(
            f"no Debian mirror for {suite} in the apt sources — set RELKIT_DEBIAN_MIRROR"
        )
    return mirror


# Not needed in a test image; dropping them makes the import quicker.
TRIMMED_PATHS = (
    "var/cache/apt/archives",
    "var/lib/apt/lists",
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
)
# Bump when build_debian_image changes what it makes, to invalidate cached images.
DEBIAN_RECIPE = "1"


def build_debian_image(
    client: docker.DockerClient, tag: str, suite: str, packages: Sequence[str]
) -> None:
    if os.geteuid() != 0 or shutil.which("debootstrap") is None:
        raise BaseImageUnavailable("building a Debian base image needs root and debootstrap")
    repository, _, version = tag.rpartition(":")
    with tempfile.TemporaryDirectory(prefix="relkit-debootstrap-") as tmp:
        root = Path(tmp) / "root"
        command = ["debootstrap", "--variant=minbase"]
        if packages:
            command.append("--include=" + ",".join(packages))
        command += [suite, str(root), debian_mirror(suite)]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).splitlines()[-20:])
            raise BaseImageError(f"debootstrap failed:\n{tail}")
        for junk in TRIMMED_PATHS:
            shutil.rmtree(root / junk, ignore_errors=True)
        archive = Path(tmp) / "root.tar"
        subprocess.run(
            ["tar", "--numeric-owner", "-C", str(root), "-cf", str(archive), "."],
            check=True,
        )
        client.api.import_image_from_file(
            str(archive),
            repository=repository,
            tag=version,
            changes=[
                "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                f"LABEL {BASE_LABEL_KEY}=debian-{suite}",
                'CMD ["bash"]',
            ],
        )


def ensure_busybox_image(client: docker.DockerClient) -> str:
    """Tag of the busybox image, built unless the engine has it already."""
    context = busybox_context(find_static_busybox())
    tag = f"relkit-test/busybox:{content_tag(context)}"
    with BuildLock("busybox"):
        if not image_exists(client, tag):
            client.images.build(fileobj=io.BytesIO(context), custom_context=True, tag=tag, rm=True)
    return tag


def ensure_debian_image(client: docker.DockerClient, suite: str, include: Sequence[str]) -> str:
    """Tag of a Debian image with ``include``, debootstrapped unless cached."""
    packages = sorted(set(include))
    digest = content_tag(DEBIAN_RECIPE, suite, "minbase", *packages)
    tag = f"relkit-test/debian:{suite}-{digest}"
    with BuildLock(tag.replace("/", "_").replace(":", "_")):
        if not image_exists(client, tag):
            build_debian_image(client, tag, suite, packages)
    return tag
