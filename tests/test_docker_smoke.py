"""First real Docker tests: a FROM-scratch image turns healthy; the registry takes a push."""

from __future__ import annotations

import io
import json
import tarfile
import time
import urllib.request

import docker
import pytest
from docker.models.containers import Container

from tests.docker_support import DockerLabel

pytestmark = pytest.mark.docker

DOCKERFILE = """\
FROM {base}
RUN mkdir -p /www && echo ok > /www/health
USER nobody
EXPOSE 8080
HEALTHCHECK --interval=1s --timeout=2s --retries=3 \\
  CMD ["wget", "-q", "-O", "-", "http://127.0.0.1:8080/health"]
CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]
"""


def context_with(dockerfile: str) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        data = dockerfile.encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    return buffer


def wait_for_health(container: Container, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    status = "unknown"
    while time.monotonic() < deadline:
        container.reload()
        status = str(container.attrs["State"]["Health"]["Status"])
        if status != "starting":
            return status
        time.sleep(0.5)
    return status


def test_scratch_image_with_healthcheck_becomes_healthy(
    docker_client: docker.DockerClient, docker_label: DockerLabel, busybox_image: str
) -> None:
    image, _ = docker_client.images.build(
        fileobj=context_with(DOCKERFILE.format(base=busybox_image)),
        custom_context=True,
        labels=docker_label.labels,
        rm=True,
    )
    assert image.attrs["Config"]["Healthcheck"]["Test"][0] == "CMD"

    container = docker_client.containers.run(
        image.id, detach=True, labels=docker_label.labels, network_mode="bridge"
    )
    assert container.attrs["Config"]["User"] == "nobody"
    assert wait_for_health(container, timeout=30) == "healthy", container.logs().decode()

    exit_code, output = container.exec_run(
        ["wget", "-q", "-O", "-", "http://127.0.0.1:8080/health"]
    )
    assert (exit_code, output) == (0, b"ok\n")


def test_image_pushed_to_the_registry_is_listed_there(
    docker_client: docker.DockerClient,
    docker_label: DockerLabel,
    busybox_image: str,
    registry: str,
) -> None:
    repository = f"{registry}/relkit-test/smoke"
    tag = docker_label.value
    docker_client.images.build(
        fileobj=context_with(f'FROM {busybox_image}\nCMD ["true"]\n'),
        custom_context=True,
        labels=docker_label.labels,
        tag=f"{repository}:{tag}",
        rm=True,
    )
    for line in docker_client.images.push(repository, tag=tag, stream=True, decode=True):
        assert "error" not in line, line

    url = f"http://{registry}/v2/relkit-test/smoke/tags/list"
    with urllib.request.urlopen(url, timeout=5) as response:
        assert tag in json.load(response)["tags"]
