"""The high-level SDK client (containers, volumes) for deploys, with errors a person can act on."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from relkit.errors import DockerError, DockerUnavailable


def connect_client(host: str | None = None, timeout: int = 60) -> Any:
    """A ``docker.DockerClient`` for *host* (default: DOCKER_HOST or the local engine)."""
    import docker
    import docker.errors

    host = host or os.environ.get("DOCKER_HOST") or None
    try:
        if host:
            client = docker.DockerClient(base_url=host, timeout=timeout, use_ssh_client=True)
        else:
            client = docker.from_env(timeout=timeout)
        client.ping()
    except Exception as exc:  # the SDK raises many kinds here
        where = host or "the local engine (unix:///var/run/docker.sock)"
        raise DockerUnavailable(
            f"cannot reach the Docker engine at {where}: {_reason(exc)}",
            "start dockerd, or set DOCKER_HOST / the environment's docker_host",
        ) from None
    return client


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[-1][:300] if text else type(exc).__name__


@contextmanager
def engine_errors(what: str) -> Iterator[None]:
    """Translate SDK errors raised while doing *what* into relkit errors."""
    import docker.errors
    import requests.exceptions

    try:
        yield
    except docker.errors.APIError as exc:
        explanation = exc.explanation or str(exc)
        raise DockerError(f"{what}: {explanation}") from None
    except (requests.exceptions.ConnectionError, ConnectionError) as exc:
        raise DockerUnavailable(
            f"{what}: lost the Docker engine ({_reason(exc)})",
            "check that dockerd runs and DOCKER_HOST is right",
        ) from None
