"""The image's own USER and HEALTHCHECK, read from a real engine."""

from __future__ import annotations

import io
import uuid

import docker
import pytest

from relkit.check.compose_rules import ImageFacts
from relkit.docker.images import inspector
from tests.docker_support import DockerLabel

pytestmark = pytest.mark.docker


def test_user_and_healthcheck_from_the_image(
    docker_client: docker.DockerClient, docker_label: DockerLabel, busybox_image: str
) -> None:
    tag = f"relkit-check-test:{uuid.uuid4().hex[:8]}"
    dockerfile = f"FROM {busybox_image}\nUSER 10001\nHEALTHCHECK CMD true\n" + "".join(
        f'LABEL {k}="{v}"\n' for k, v in docker_label.labels.items()
    )
    docker_client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True)
    try:
        inspect = inspector("")
        assert inspect(tag) == ImageFacts(user="10001", healthcheck=True)
        assert inspect(busybox_image) == ImageFacts(user="", healthcheck=False)
        assert inspect("relkit-check-test:absent") is None
    finally:
        docker_client.images.remove(tag, force=True)
