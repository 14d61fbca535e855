"""The Docker Engine: connect, build (streamed), tag, push (streamed), inspect.

Every docker-py call goes through :func:`_translated`, which turns the SDK's
exceptions into :class:`DockerUnavailable` (exit 69: the engine does not
answer) or :class:`DockerError` (exit 1: the engine answered "no"), keeping
the engine's own message. Builds use the low-level ``APIClient.build`` with
``decode=True`` so every step is seen as it happens (docker-py drives the
classic builder; BuildKit is not available through the SDK).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests.exceptions

from relkit.docker.auth import Credentials, mask
from relkit.docker.events import BuildOutput, BuildStep, Event, LayerProgress, Pushed
from relkit.errors import DockerError, DockerUnavailable, RegistryUnavailable

EventSink = Callable[[Event], None]

_STEP = re.compile(r"^Step \d+/\d+ : ")
# The classic builder's bookkeeping between steps, not output of the step.
_CHATTER = re.compile(r"^\s*(---> |Removing intermediate container )")
# Messages with which the engine reports that it could not reach a registry.
_UNREACHABLE = re.compile(
    r"connection refused|no such host|i/o timeout|network is unreachable|no route to host"
    r"|TLS handshake timeout|server misbehaving|dial tcp|connection reset",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ImageInfo:
    id: str
    labels: Mapping[str, str]
    repo_tags: tuple[str, ...]
    repo_digests: tuple[str, ...]


def _unavailable(host: str | None, detail: str) -> DockerUnavailable:
    where = host or os.environ.get("DOCKER_HOST") or "the local engine (unix socket)"
    return DockerUnavailable(
        f"cannot reach the Docker engine at {where}: {detail}",
        "start the daemon (dockerd, Docker Desktop), or point DOCKER_HOST at a running"
        " engine; 'docker info' shows the same problem",
    )


@contextmanager
def _translated(what: str, host: str | None, secrets: Sequence[str] = ()) -> Iterator[None]:
    try:
        yield
    except docker.errors.APIError as exc:
        detail = mask(str(exc.explanation or exc), secrets)
        raise DockerError(f"{what}: {detail}") from None
    except requests.exceptions.RequestException as exc:
        raise _unavailable(host, mask(_short(exc), secrets)) from None
    except docker.errors.DockerException as exc:
        raise _unavailable(host, mask(_short(exc), secrets)) from None


def _short(exc: BaseException) -> str:
    """The innermost useful line of a (requests/urllib3) connection error."""
    text = str(exc)
    for marker in ("Connection refused", "No such file or directory", "Name or service not known"):
        if marker in text:
            return marker.lower()
    return text.splitlines()[0] if text else type(exc).__name__


class Engine:
    """A connected Docker Engine."""

    def __init__(self, api: docker.APIClient, host: str | None) -> None:
        self._api = api
        self.host = host

    def close(self) -> None:
        self._api.close()

    def build(
        self,
        *,
        name: str,
        context: Path,
        dockerfile: str,
        tag: str,
        build_args: Mapping[str, str],
        labels: Mapping[str, str],
        no_cache: bool = False,
        on_event: EventSink | None = None,
    ) -> str:
        """Build *context* as ``name:tag``, streaming steps; return the image id."""
        if not context.is_dir():
            raise DockerError(
                f"build context {context} of {name} is not a directory",
                "fix 'context' of that image in the config",
            )
        if not (context / dockerfile).is_file():
            raise DockerError(
                f"{context / dockerfile} not found for {name}",
                "fix 'dockerfile' (relative to the context) in the config",
            )
        emit = on_event or (lambda event: None)
        step = "the start of the build"
        image_id: str | None = None
        with _translated(f"building {name} failed", self.host):
            stream = self._api.build(
                path=str(context),
                dockerfile=dockerfile,
                tag=f"{name}:{tag}",
                buildargs=dict(build_args),
                labels=dict(labels),
                nocache=no_cache,
                rm=True,
                forcerm=True,
                decode=True,
            )
            for chunk in stream:
                if "error" in chunk or "errorDetail" in chunk:
                    detail = chunk.get("errorDetail") or {}
                    message = str(detail.get("message") or chunk.get("error") or "").strip()
                    raise DockerError(
                        f"building {name} failed at {step}: {message}",
                        "fix that step of the Dockerfile and run relkit build again",
                    )
                aux = chunk.get("aux")
                if isinstance(aux, dict) and aux.get("ID"):
                    image_id = str(aux["ID"])
                for line in str(chunk.get("stream", "")).splitlines():
                    line = line.rstrip()
                    if not line or _CHATTER.match(line):
                        continue
                    if _STEP.match(line):
                        step = line
                        emit(BuildStep(name, line))
                    else:
                        emit(BuildOutput(name, line))
        if image_id is None:
            image_id = self.inspect(f"{name}:{tag}").id
        return image_id

    def tag(self, image_id: str, name: str, tag: str) -> None:
        with _translated(f"tagging {name}:{tag} failed", self.host):
            self._api.tag(image_id, name, tag, force=True)

    def inspect(self, ref: str) -> ImageInfo:
        with _translated(f"inspecting {ref} failed", self.host):
            attrs: dict[str, Any] = self._api.inspect_image(ref)
        return ImageInfo(
            id=str(attrs["Id"]),
            labels=dict((attrs.get("Config") or {}).get("Labels") or {}),
            repo_tags=tuple(attrs.get("RepoTags") or ()),
            repo_digests=tuple(attrs.get("RepoDigests") or ()),
        )

    def pull(self, reference: str, credentials: Credentials | None = None) -> str:
        """Pull ``name@sha256:…`` (or ``name:tag``) unless present; return the image id."""
        secrets = credentials.secrets if credentials else ()
        with _translated(f"pulling {reference} failed", self.host, secrets):
            try:
                return str(self._api.inspect_image(reference)["Id"])
            except docker.errors.ImageNotFound:
                pass
            name, sep, digest = reference.partition("@")
            auth = credentials.auth_config() if credentials else None
            if sep:
                self._api.pull(name, tag=digest, auth_config=auth)
            else:
                self._api.pull(reference, auth_config=auth)
            return str(self._api.inspect_image(reference)["Id"])

    def push(
        self,
        name: str,
        tag: str,
        *,
        credentials: Credentials | None = None,
        on_event: EventSink | None = None,
    ) -> str:
        """Push ``name:tag`` and return the manifest digest the registry answered with.

        docker-py reports a failed push as a successful HTTP response whose
        stream carries an ``error`` event (docker-py#3161): every event is checked.
        """
        ref = f"{name}:{tag}"
        emit = on_event or (lambda event: None)
        secrets = credentials.secrets if credentials else ()
        auth = credentials.auth_config() if credentials else None
        digest: str | None = None
        with _translated(f"pushing {ref} failed", self.host, secrets):
            stream = self._api.push(name, tag=tag, stream=True, decode=True, auth_config=auth)
            for chunk in stream:
                if "error" in chunk or "errorDetail" in chunk:
                    detail = chunk.get("errorDetail") or {}
                    message = str(detail.get("message") or chunk.get("error") or "").strip()
                    raise _push_error(ref, mask(message, secrets))
                aux = chunk.get("aux")
                if isinstance(aux, dict) and aux.get("Digest"):
                    digest = str(aux["Digest"])
                layer, status = chunk.get("id"), chunk.get("status")
                if layer and status and layer != tag:
                    progress = chunk.get("progressDetail") or {}
                    emit(
                        LayerProgress(
                            ref,
                            str(layer),
                            str(status),
                            progress.get("current"),
                            progress.get("total"),
                        )
                    )
        if digest is None:
            raise DockerError(
                f"pushing {ref} ended without a digest from the registry",
                "check the registry's logs, then push again",
            )
        emit(Pushed(ref, digest))
        return digest


def _push_error(ref: str, message: str) -> DockerError:
    registry = ref.split("/", 1)[0] if "/" in ref else "docker.io"
    if _UNREACHABLE.search(message):
        return RegistryUnavailable(
            f"pushing {ref} failed, the registry {registry} is unreachable: {message}",
            "check that the registry is up and its address in the image name is right",
        )
    if "unauthorized" in message.lower() or "denied" in message.lower():
        return DockerError(
            f"pushing {ref} was refused: {message}",
            f"log in ('docker login {registry}') or set RELKIT_REGISTRY_USER and"
            " RELKIT_REGISTRY_PASSWORD",
        )
    return DockerError(f"pushing {ref} failed: {message}", "see the registry's message")


def connect(host: str | None = None, timeout: int = 300) -> Engine:
    """Connect to *host*, or to the engine named by DOCKER_HOST (TLS settings from the env)."""
    with _translated("connecting to Docker failed", host):
        kwargs: dict[str, Any] = docker.utils.kwargs_from_env()
        if host:
            kwargs["base_url"] = host
        base = str(kwargs.get("base_url") or "")
        api = docker.APIClient(
            version="auto", timeout=timeout, use_ssh_client=base.startswith("ssh://"), **kwargs
        )
        api.ping()
    return Engine(api, host or os.environ.get("DOCKER_HOST"))
