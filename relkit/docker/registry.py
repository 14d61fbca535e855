"""Read images back from a registry over its HTTP API (Docker Registry v2 / OCI distribution).

``GET /v2/<repo>/manifests/<tag>`` with the manifest media types in ``Accept``
gives the digest (``Docker-Content-Digest``); the manifest's ``config`` blob is
the image id and carries the labels. That is all a deploy job on another
machine needs to turn a version into ``name@digest``. Token auth (the
``WWW-Authenticate: Bearer`` challenge) and basic auth are handled; loopback
registries are spoken to over http, like the engine does, others over https.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from relkit.docker.auth import Credentials, mask
from relkit.errors import DockerError, RegistryUnavailable

MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
ACCEPT = ", ".join((MANIFEST, OCI_MANIFEST, MANIFEST_LIST, OCI_INDEX))
HUB = "docker.io"
HUB_API = "registry-1.docker.io"
_PARAM = re.compile(r'([A-Za-z_]+)="([^"]*)"')


@dataclass(frozen=True)
class RemoteImage:
    name: str
    tag: str
    digest: str
    image_id: str
    labels: dict[str, str]


def split_name(name: str) -> tuple[str, str]:
    """``registry.example.com/acme/api`` → (``registry.example.com``, ``acme/api``)."""
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return HUB, name if rest else f"library/{name}"


def _is_loopback(registry: str) -> bool:
    host = registry.rsplit(":", 1)[0] if registry.count(":") == 1 else registry
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def base_url(registry: str) -> str:
    if registry == HUB:
        return f"https://{HUB_API}"
    return f"{'http' if _is_loopback(registry) else 'https'}://{registry}"


def docker_config_credentials(registry: str) -> Credentials | None:
    """What ``docker login`` stored for *registry* (credential helpers included)."""
    import docker.auth
    import docker.errors

    try:
        found = docker.auth.load_config().resolve_authconfig(registry)
    except docker.errors.DockerException:
        return None
    if not found:
        return None
    user = found.get("Username") or found.get("username")
    password = found.get("Password") or found.get("password")
    return Credentials(user, password) if user and password else None


class _NoAuthOnOtherHost(urllib.request.HTTPRedirectHandler):
    """Blob downloads redirect to storage (S3, GCS) that rejects the registry's token."""

    def redirect_request(
        self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None:
            old_host = urllib.parse.urlsplit(req.full_url).netloc
            if urllib.parse.urlsplit(newurl).netloc != old_host:
                new.remove_header("Authorization")
        return new


class RegistryClient:
    """A read-only client for one repository of one registry."""

    def __init__(
        self, name: str, credentials: Credentials | None = None, timeout: float = 15.0
    ) -> None:
        self.name = name
        self.registry, self.repository = split_name(name)
        self.base = base_url(self.registry)
        self.credentials = credentials or docker_config_credentials(self.registry)
        self.timeout = timeout
        self._authorization: str | None = None
        self._opener = urllib.request.build_opener(_NoAuthOnOtherHost)

    @property
    def _secrets(self) -> tuple[str, ...]:
        return self.credentials.secrets if self.credentials else ()

    def _open(self, path: str, accept: str) -> tuple[bytes, dict[str, str]]:
        url = f"{self.base}/v2/{self.repository}/{path}"
        for attempt in range(2):
            request = urllib.request.Request(url, headers={"Accept": accept})
            if self._authorization:
                request.add_header("Authorization", self._authorization)
            try:
                with self._opener.open(request, timeout=self.timeout) as response:
                    return response.read(), {k.lower(): v for k, v in response.headers.items()}
            except urllib.error.HTTPError as exc:
                challenge = exc.headers.get("WWW-Authenticate", "")
                if exc.code == 401 and attempt == 0 and challenge:
                    self._authorization = self._authorize(challenge)
                    continue
                raise self._http_error(exc) from None
            except (urllib.error.URLError, OSError) as exc:
                reason = mask(str(getattr(exc, "reason", exc)), self._secrets)
                raise RegistryUnavailable(
                    f"cannot reach the registry {self.registry}: {reason}",
                    "check that the registry is up and the image name's registry part is right",
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _http_error(self, exc: urllib.error.HTTPError) -> DockerError:
        if exc.code == 404:
            return DockerError(
                f"{self.registry} has no {self.repository}:{exc.url.rsplit('/', 1)[-1]}",
                "build and push that version first: relkit build --push",
            )
        if exc.code in (401, 403):
            return DockerError(
                f"the registry {self.registry} refused access to {self.repository} ({exc.code})",
                f"log in ('docker login {self.registry}') or set RELKIT_REGISTRY_USER and"
                " RELKIT_REGISTRY_PASSWORD",
            )
        if exc.code >= 500:
            return RegistryUnavailable(
                f"the registry {self.registry} answered {exc.code} {exc.reason}",
                "the registry is failing; try again or check its logs",
            )
        return DockerError(f"the registry {self.registry} answered {exc.code} {exc.reason}")

    def _basic(self) -> str | None:
        if self.credentials is None:
            return None
        pair = f"{self.credentials.username}:{self.credentials.password}".encode()
        return "Basic " + base64.b64encode(pair).decode()

    def _authorize(self, challenge: str) -> str | None:
        scheme, _, params_text = challenge.partition(" ")
        if scheme.lower() == "basic":
            return self._basic()
        params = dict(_challenge_params(params_text))
        realm = params.pop("realm", None)
        if scheme.lower() != "bearer" or not realm:
            return None
        wanted = {k: v for k, v in params.items() if k in ("service", "scope")}
        query = urllib.parse.urlencode(wanted)
        request = urllib.request.Request(f"{realm}?{query}" if query else realm)
        basic = self._basic()
        if basic:
            request.add_header("Authorization", basic)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise self._http_error(exc) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise RegistryUnavailable(
                f"cannot get a token for {self.registry}: {mask(str(exc), self._secrets)}",
                "check the registry's auth service",
            ) from None
        token = answer.get("token") or answer.get("access_token")
        return f"Bearer {token}" if token else None

    def manifest(self, reference: str) -> tuple[str, dict[str, Any]]:
        """The digest and the parsed manifest of a tag or digest."""
        body, headers = self._open(f"manifests/{reference}", ACCEPT)
        digest = headers.get("docker-content-digest") or (
            "sha256:" + hashlib.sha256(body).hexdigest()
        )
        return digest, json.loads(body)

    def blob_json(self, digest: str) -> dict[str, Any]:
        body, _ = self._open(f"blobs/{digest}", "application/json, */*")
        if "sha256:" + hashlib.sha256(body).hexdigest() != digest:
            raise DockerError(f"blob {digest} of {self.name} does not match its digest")
        value: dict[str, Any] = json.loads(body)
        return value

    def image(self, tag: str) -> RemoteImage:
        """What ``name:tag`` points to: its digest, image id and labels."""
        digest, manifest = self.manifest(tag)
        if manifest.get("mediaType") in (MANIFEST_LIST, OCI_INDEX) or "manifests" in manifest:
            entry = _pick_platform(manifest.get("manifests") or [])
            _, manifest = self.manifest(entry)
        config_digest = str((manifest.get("config") or {}).get("digest") or "")
        if not config_digest:
            raise DockerError(f"{self.name}:{tag} has a manifest without a config")
        config = self.blob_json(config_digest)
        labels = (config.get("config") or {}).get("Labels") or {}
        return RemoteImage(self.name, tag, digest, config_digest, dict(labels))


def _challenge_params(text: str) -> list[tuple[str, str]]:
    """``realm="https://auth",scope="repository:a/b:pull,push"`` → key/value pairs."""
    return [(key.lower(), value) for key, value in _PARAM.findall(text)]


def _pick_platform(manifests: list[dict[str, Any]]) -> str:
    for entry in manifests:
        platform = entry.get("platform") or {}
        if platform.get("os") == "linux" and platform.get("architecture") == "amd64":
            return str(entry["digest"])
    if not manifests:
        raise DockerError("an image index without manifests")
    return str(manifests[0]["digest"])
