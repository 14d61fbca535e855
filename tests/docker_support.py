"""pytest plugin: a real Docker engine, a real registry and cached base images.

Tests marked ``docker`` skip when the engine does not answer, and fail instead
when ``RELKIT_REQUIRE_DOCKER=1`` (CI). Everything a test creates carries the
per-test label from the ``docker_label`` fixture and is removed afterwards.
Base images (busybox, Debian root filesystems) are expensive, so they are
cached in the engine under a tag derived from their content and never removed.
"""

from __future__ import annotations

import contextlib
import os
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import NoReturn

import docker
import docker.errors
import pytest

from tests.base_images import (
    BaseImageError,
    BaseImageUnavailable,
    StackBases,
    debian_suite,
    ensure_busybox_image,
    ensure_debian_image,
    ensure_stack_bases,
)

LABEL_KEY = "relkit.test"
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


def unavailable(reason: str) -> NoReturn:
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


@contextlib.contextmanager
def base_image_problems() -> Iterator[None]:
    """Skip (or fail, per RELKIT_REQUIRE_DOCKER) when a base image cannot be built."""
    try:
        yield
    except BaseImageUnavailable as exc:
        unavailable(str(exc))
    except BaseImageError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def busybox_image(docker_client: docker.DockerClient) -> str:
    """A FROM-scratch image of the host's static busybox (sh, httpd, wget, ...)."""
    with base_image_problems():
        return ensure_busybox_image(docker_client)
    raise AssertionError("unreachable: skipped or failed above")


@pytest.fixture(scope="session")
def debian_base_image(docker_client: docker.DockerClient) -> DebianImageFactory:
    """Factory: ``debian_base_image(["python3", ...])`` -> tag of a Debian image.

    Built with ``debootstrap --variant=minbase --include=...`` and imported;
    cached in the engine by suite and package list, so later runs skip it.
    Suite: the host's (``RELKIT_DEBIAN_SUITE`` overrides); mirror: from the
    apt sources (``RELKIT_DEBIAN_MIRROR`` overrides).
    """
    suite = debian_suite()

    def make(include: Sequence[str] = ()) -> str:
        with base_image_problems():
            return ensure_debian_image(docker_client, suite, include)
        raise AssertionError("unreachable: skipped or failed above")

    return make


@pytest.fixture(scope="session")
def stack_bases(docker_client: docker.DockerClient) -> StackBases:
    """The example stack's offline bases: ``.python`` (Debian with python3,
    psycopg2 and postgresql) and ``.postgres`` (the postgres stand-in on it),
    as examples/stack/offline/build-bases makes them; cached in the engine.
    """
    with base_image_problems():
        return ensure_stack_bases(docker_client, debian_suite())
    raise AssertionError("unreachable: skipped or failed above")
