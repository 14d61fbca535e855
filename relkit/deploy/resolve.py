"""Which exact images make a version: pinned by digest, never by a moving tag."""

from __future__ import annotations

from typing import Any

from relkit.config import Config
from relkit.errors import RelkitError


def docker_tag(version: str) -> str:
    """A version as a Docker tag (``+`` is not allowed in tags)."""
    return version.replace("+", "-")


def digests_from_engine(client: Any, config: Config, version: str) -> dict[str, str]:
    """image name -> ``name@sha256:…`` for the images built for *version* on this engine."""
    import docker.errors

    pinned: dict[str, str] = {}
    missing: list[str] = []
    for image in config.images:
        reference = f"{image.name}:{docker_tag(version)}"
        try:
            found = client.images.get(reference)
        except docker.errors.ImageNotFound:
            missing.append(reference)
            continue
        digests = [d for d in found.attrs.get("RepoDigests") or () if d.split("@")[0] == image.name]
        if not digests:
            missing.append(f"{reference} (built but never pushed: no digest)")
            continue
        pinned[image.name] = digests[0]
    if missing:
        raise RelkitError(
            f"version {version} was never built and pushed: {', '.join(missing)}",
            f"run 'relkit build --push' for {version} first",
        )
    return pinned
