"""Stand-in base images for the example stack, built without pulling anything.

Where no registry is reachable (relkit's CI, an air-gapped laptop) the stack's
real bases (``python:3.12-slim``, ``postgres:16``) cannot be pulled. This
builds look-alikes from Debian packages instead:

- a Debian root filesystem (``debootstrap --variant=minbase`` with python3,
  python3-psycopg2 and postgresql) imported with ``docker import``: the API's
  base;
- on top of it, ``postgres/``: a stand-in keeping the official postgres
  image's contract: the database's image and the backup image's base.

Both are cached in the engine under tags derived from what went into them,
and a file lock keeps concurrent runs from building one twice. The Debian
mirror comes from this machine's apt sources (``RELKIT_DEBIAN_MIRROR``
overrides it; ``RELKIT_DEBIAN_SUITE`` the suite). Only the standard library
and the ``docker`` command line are used. Building the Debian root fs needs
root and debootstrap.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = "relkit-offline"
LABEL_KEY = "relkit.offline.base"
STACK_PACKAGES = ("postgresql", "python3", "python3-psycopg2")
POSTGRES_CONTEXT = Path(__file__).resolve().parent / "postgres"
# Bump when build_debian_image changes what it makes, to invalidate cached images.
DEBIAN_RECIPE = "1"
# Not needed in these images; dropping them makes the import quicker.
TRIMMED_PATHS = (
    "var/cache/apt/archives",
    "var/lib/apt/lists",
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
)


class Unavailable(Exception):
    """This machine cannot build the image (missing tool, root, or mirror)."""


class BuildFailed(Exception):
    """Building the image failed."""


def content_tag(*parts: str | bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def docker(*args: str) -> str:
    """Run the docker CLI; its stdout, or BuildFailed with its message."""
    if shutil.which("docker") is None:
        raise Unavailable("the docker command is not installed — apt-get install docker.io")
    result = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-20:])
        raise BuildFailed(f"docker {args[0]} failed:\n{tail}")
    return result.stdout


def image_id(ref: str) -> str | None:
    result = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Id}}", ref],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return None
    return result.stdout.strip() or None


@contextmanager
def build_lock(tag: str) -> Iterator[None]:
    """Serialises building one image across concurrent runs on this machine."""
    name = tag.replace("/", "_").replace(":", "_")
    path = Path(tempfile.gettempdir()) / f"relkit-offline-{name}.lock"
    with path.open("w") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


# -- the Debian mirror ----------------------------------------------------------


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
        raise Unavailable(
            f"no Debian mirror for {suite} in the apt sources — set RELKIT_DEBIAN_MIRROR"
        )
    return mirror


# -- images -----------------------------------------------------------------------


def log(text: str) -> None:
    print(f"build-bases: {text}", file=sys.stderr, flush=True)


def build_debian_image(tag: str, suite: str, packages: Sequence[str]) -> None:
    if os.geteuid() != 0 or shutil.which("debootstrap") is None:
        raise Unavailable("building a Debian base image needs root and debootstrap")
    mirror = debian_mirror(suite)
    log(f"debootstrap {suite} from {mirror} with {', '.join(packages) or 'minbase'}")
    with tempfile.TemporaryDirectory(prefix="relkit-debootstrap-") as tmp:
        root = Path(tmp) / "root"
        command = ["debootstrap", "--variant=minbase"]
        if packages:
            command.append("--include=" + ",".join(packages))
        command += [suite, str(root), mirror]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).splitlines()[-20:])
            raise BuildFailed(f"debootstrap failed:\n{tail}")
        for junk in TRIMMED_PATHS:
            shutil.rmtree(root / junk, ignore_errors=True)
        archive = Path(tmp) / "root.tar"
        subprocess.run(
            ["tar", "--numeric-owner", "-C", str(root), "-cf", str(archive), "."], check=True
        )
        docker(
            "import",
            "--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "--change", f"LABEL {LABEL_KEY}=debian-{suite}",
            "--change", 'CMD ["bash"]',
            str(archive),
            tag,
        )  # fmt: skip


def ensure_debian_image(suite: str, include: Sequence[str]) -> str:
    """Tag of a Debian image with ``include``, debootstrapped unless cached."""
    packages = sorted(set(include))
    digest = content_tag(DEBIAN_RECIPE, suite, "minbase", *packages)
    tag = f"{REPOSITORY}/debian:{suite}-{digest}"
    with build_lock(tag):
        if image_id(tag) is None:
            build_debian_image(tag, suite, packages)
    return tag


def context_digest(directory: Path) -> str:
    parts: list[str | bytes] = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        parts += [path.relative_to(directory).as_posix(), oct(path.stat().st_mode & 0o777)]
        parts.append(path.read_bytes())
    return content_tag(*parts)


def ensure_postgres_image(base: str) -> str:
    """Tag of the postgres stand-in built on ``base``, built unless cached."""
    base_id = image_id(base)
    if base_id is None:
        raise BuildFailed(f"base image {base} is missing")
    tag = f"{REPOSITORY}/postgres:{content_tag(base_id, context_digest(POSTGRES_CONTEXT))}"
    with build_lock(tag):
        if image_id(tag) is None:
            log(f"building the postgres stand-in on {base}")
            docker(
                "build", "--quiet",
                "--build-arg", f"BASE_IMAGE={base}",
                "--label", f"{LABEL_KEY}=postgres",
                "--tag", tag,
                str(POSTGRES_CONTEXT),
            )  # fmt: skip
    return tag


@dataclass(frozen=True)
class StackBases:
    python: str  # BASE_IMAGE of the api image
    postgres: str  # DB_IMAGE, and BASE_IMAGE of the backup image

    def lines(self) -> str:
        return f"PYTHON_BASE={self.python}\nPOSTGRES_BASE={self.postgres}\n"


def ensure_stack_bases(suite: str | None = None) -> StackBases:
    debian = ensure_debian_image(suite or debian_suite(), STACK_PACKAGES)
    return StackBases(python=debian, postgres=ensure_postgres_image(debian))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="build-bases",
        description="Build (or find cached) offline stand-ins for the example stack's base"
        " images and print them as PYTHON_BASE=… and POSTGRES_BASE=… lines.",
    )
    parser.add_argument("--suite", help="Debian suite (default: this machine's)")
    args = parser.parse_args(argv)
    try:
        bases = ensure_stack_bases(args.suite)
    except (Unavailable, BuildFailed) as exc:
        print(f"build-bases: error: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(bases.lines())
    return 0
