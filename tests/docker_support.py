"""pytest plugin: a real Docker engine, a real registry and cached base images.

Tests marked ``docker`` skip when the engine does not answer, and fail instead
when ``RELKIT_REQUIRE_DOCKER=1`` (CI). Everything a test creates carries the
per-test label from the ``docker_label`` fixture and is removed afterwards.
Base images (busybox, Debian root filesystems) are expensive, so they are
cached in the engine under a tag derived from their content and never removed.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import docker
import docker.errors
import pytest

LABEL_KEY = "relkit.test"
BASE_LABEL_KEY = "relkit.test.base"
DEFAULT_REGISTRY = "127.0.0.1:5000"
SESSION_ID = uuid.uuid4().hex[:8]

DebianImageFactory = Callable[[Sequence[str]], str]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "docker: needs a real Docker engine (skips without one, fails when "
        "RELKIT_REQUIRE_DOCKER=1)",
    )


def docker_required() -> bool:
    return os.environ.get("RELKIT_REQUIRE_DOCKER") == "1"


def unavailable(reason: str) -> None:
    """Skip the test, or fail it when the environment says Docker is required."""
    if docker_required():
        pytest.fail(f"{reason} (RELKIT_REQUIRE_DOCKER=1)", pytrace=False)
    pytest.skip(reason)


@cache
def engine_problem() -> str | None:
    """Why the engine cannot be used, or None when it answers."""
    try:
        client = docker.from_env(timeout=10)
        client.ping()
        client.close()
    except docker.errors.DockerException as exc:
        return f"Docker engine unreachable: {exc}"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("docker") is None:
        return
    problem = engine_problem()
    if problem is not None:
        unavailable(problem)


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    problem = engine_problem()
    if problem is not None:
        unavailable(problem)
    client = docker.from_env(timeout=300)
    yield client
    client.close()


@dataclass(frozen=True)
class DockerLabel:
    """The label every resource of one test carries."""

    key: str
    value: str

    @property
    def labels(self) -> dict[str, str]:
        return {self.key: self.value}

    @property
    def selector(self) -> str:
        """For ``filters={"label": ...}`` and ``docker ... --filter label=``."""
        return f"{self.key}={self.value}"


def remove_labelled(client: docker.DockerClient, label: DockerLabel) -> None:
    """Remove containers, networks, volumes and images carrying ``label``."""
    filters = {"label": label.selector}
    for container in client.containers.list(all=True, filters=filters):
        container.remove(force=True, v=True)
    for network in client.networks.list(filters=filters):
        network.remove()
    for volume in client.volumes.list(filters=filters):
        volume.remove(force=True)
    # An image built FROM another labelled image must go first: retry those
    # the engine refuses (409, "has dependent child images") until none are left.
    pending = [image.id for image in client.images.list(filters=filters)]
    while pending:
        refused = []
        for image_id in pending:
            try:
                client.images.remove(image_id, force=True)
            except docker.errors.NotFound:
                pass  # removed together with its child
            except docker.errors.APIError as exc:
                if exc.status_code != 409:
                    raise
                refused.append(image_id)
        if len(refused) == len(pending):
            raise RuntimeError(f"cannot remove images labelled {label.selector}: {refused}")
        pending = refused


def new_docker_label() -> DockerLabel:
    return DockerLabel(LABEL_KEY, f"{SESSION_ID}-{uuid.uuid4().hex[:8]}")


@contextlib.contextmanager
def labelled_resources(client: docker.DockerClient) -> Iterator[DockerLabel]:
    """A fresh label; everything carrying it is removed on exit.

    For fixtures wider than one test (a module's stack, say); tests use
    the ``docker_label`` fixture.
    """
    label = new_docker_label()
    try:
        yield label
    finally:
        remove_labelled(client, label)


@pytest.fixture
def docker_label(docker_client: docker.DockerClient) -> Iterator[DockerLabel]:
    """This test's label; resources carrying it are removed after the test."""
    with labelled_resources(docker_client) as label:
        yield label


# -- registry -----------------------------------------------------------------


@pytest.fixture(scope="session")
def registry() -> str:
    """Address (host:port) of a registry that answers on /v2/."""
    address = os.environ.get("RELKIT_TEST_REGISTRY", DEFAULT_REGISTRY)
    try:
        with urllib.request.urlopen(f"http://{address}/v2/", timeout=5) as response:
            response.read()
    except (urllib.error.URLError, OSError) as exc:
        unavailable(f"registry {address} does not answer on /v2/: {exc} — run .ci/services start")
    return address


# -- cached base images ---------------------------------------------------------


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
        pytest.fail("busybox not found — apt-get install busybox-static", pytrace=False)
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


@pytest.fixture(scope="session")
def busybox_image(docker_client: docker.DockerClient) -> str:
    """A FROM-scratch image of the host's static busybox (sh, httpd, wget, ...)."""
    context = busybox_context(find_static_busybox())
    tag = f"relkit-test/busybox:{content_tag(context)}"
    with BuildLock("busybox"):
        if not image_exists(docker_client, tag):
            docker_client.images.build(
                fileobj=io.BytesIO(context), custom_context=True, tag=tag, rm=True
            )
    return tag


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
        pytest.fail(
            f"no Debian mirror for {suite} in the apt sources — set RELKIT_DEBIAN_MIRROR",
            pytrace=False,
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
        unavailable("building a Debian base image needs root and debootstrap")
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
            pytest.fail(f"debootstrap failed:\n{tail}", pytrace=False)
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


@pytest.fixture(scope="session")
def debian_base_image(docker_client: docker.DockerClient) -> DebianImageFactory:
    """Factory: ``debian_base_image(["python3", ...])`` -> tag of a Debian image.

    Built with ``debootstrap --variant=minbase --include=...`` and imported;
    cached in the engine by suite and package list, so later runs skip it.
    """
    suite = debian_suite()

    def make(include: Sequence[str] = ()) -> str:
        packages = sorted(set(include))
        tag = (
            f"relkit-test/debian:{suite}-{content_tag(DEBIAN_RECIPE, suite, 'minbase', *packages)}"
        )
        with BuildLock(tag.replace("/", "_").replace(":", "_")):
            if not image_exists(docker_client, tag):
                build_debian_image(docker_client, tag, suite, packages)
        return tag

    return make
