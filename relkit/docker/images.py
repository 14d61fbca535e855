"""What an image's configuration says about how it runs (user, healthcheck)."""

from __future__ import annotations

from typing import Any

from relkit.check.compose_rules import ImageFacts, ImageInspector
from relkit.docker.client import connect_client


def facts_of(attrs: dict[str, Any]) -> ImageFacts:
    config = attrs.get("Config") or {}
    test = (config.get("Healthcheck") or {}).get("Test") or []
    return ImageFacts(
        user=str(config.get("User") or ""), healthcheck=bool(test) and test[0] != "NONE"
    )


def inspector(host: str, timeout: int = 10) -> ImageInspector:
    """An inspector of images present on the engine at *host* (raises DockerUnavailable)."""
    import docker.errors

    client = connect_client(host or None, timeout=timeout)

    def inspect(ref: str) -> ImageFacts | None:
        try:
            return facts_of(client.images.get(ref).attrs)
        except (docker.errors.ImageNotFound, docker.errors.APIError):
            return None  # not present locally (never pulled: check changes nothing)

    return inspect
