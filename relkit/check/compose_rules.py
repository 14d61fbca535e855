"""Production-readiness rules for one environment's merged compose configuration.

Each rule looks at one service of the merged configuration and reports
:class:`Finding` values located at the file and line that set the offending
value, or, for a missing key, at the service in the first file that defines
it. The rules and their severities are listed in docs/check.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from relkit.check.compose_model import LocatedDict, LocatedList, Where, volume_target
from relkit.check.findings import ERROR, WARNING, Finding


@dataclass(frozen=True)
class ImageFacts:
    """What the image's own configuration says (from the engine)."""

    user: str
    healthcheck: bool


# Returns None when the image cannot be inspected (not present locally, no engine).
ImageInspector = Callable[[str], ImageFacts | None]

RULES = (
    "healthcheck",
    "memory-limit",
    "cpu-limit",
    "log-rotation",
    "restart-policy",
    "non-root",
    "image-tag",
    "inline-secret",
    "docker-socket",
    "privileged",
)

SECRET_NAME = re.compile(
    r"(^|_)(PASSWORD|PASSWD|PASS|TOKEN|SECRET|KEY|APIKEY|CREDENTIALS?|PRIVATE)(_|$)", re.I
)
_VARIABLE = re.compile(r"\$(?:\{(?P<braced>[^}]*)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")
_DEFAULT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*:?-(?P<default>.*)$", re.S)


def with_defaults(value: Any) -> str | None:
    """*value* with ``${VAR:-default}`` replaced by its default; None when a variable has none.

    ``relkit check`` reads the files, not the caller's shell: what it checks is
    what the files say.
    """
    text = str(value).replace("$$", "\0")
    unresolved = False

    def substitute(match: re.Match[str]) -> str:
        nonlocal unresolved
        default = _DEFAULT.match(match.group("braced") or "")
        if default is None:
            unresolved = True
            return ""
        return default.group("default")

    result = _VARIABLE.sub(substitute, text).replace("\0", "$")
    return None if unresolved else result


def interpolated(value: Any) -> bool:
    return _VARIABLE.search(str(value).replace("$$", "")) is not None


@dataclass(frozen=True)
class ServiceContext:
    name: str
    service: LocatedDict
    at: Where  # the service's line in the first file that defines it
    one_off: bool
    pinned: bool  # relkit pins its image by digest ([[images]].services)
    swarm: bool
    inspect: ImageInspector | None

    def finding(
        self, severity: str, rule: str, message: str, where: Where | None = None
    ) -> Finding:
        where = where or self.at
        return Finding(severity, rule, f"service {self.name!r}: {message}", where.file, where.line)

    def key_at(self, key: str) -> Where:
        return self.service.where.get(key, self.at)

    def image(self) -> str | None:
        image = self.service.get("image")
        return with_defaults(image) if image is not None else None

    def facts(self) -> ImageFacts | None:
        image = self.image()
        if self.inspect is None or not image:
            return None
        return self.inspect(image)


def check_services(
    merged: LocatedDict,
    *,
    one_off: set[str],
    pinned: set[str],
    swarm: bool = False,
    inspect: ImageInspector | None = None,
) -> list[Finding]:
    """Every finding of every rule for the services of *merged*."""
    services = merged.get("services") or LocatedDict(merged.at)
    findings: list[Finding] = []
    for name, service in services.items():
        if not isinstance(service, LocatedDict):
            continue
        ctx = ServiceContext(
            name=str(name),
            service=service,
            at=services.where[name],
            one_off=name in one_off or bool(service.get("profiles")),
            pinned=name in pinned,
            swarm=swarm,
            inspect=inspect,
        )
        for rule in _RULES:
            findings.extend(rule(ctx))
    return findings


def _get(mapping: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(mapping, dict):
            return None
        mapping = mapping.get(key)
    return mapping


def _healthcheck(ctx: ServiceContext) -> Iterator[Finding]:
    if ctx.one_off:
        return
    check = ctx.service.get("healthcheck")
    if isinstance(check, dict):
        test = check.get("test")
        disabled = (
            check.get("disable") is True
            or test == "NONE"
            or (isinstance(test, list) and test[:1] == ["NONE"])
        )
        if disabled:
            yield ctx.finding(
                ERROR, "healthcheck", "healthcheck disabled", ctx.key_at("healthcheck")
            )
        return
    facts = ctx.facts()
    if facts is not None and facts.healthcheck:
        return
    detail = f" and image {ctx.image()} has no HEALTHCHECK" if facts is not None else ""
    yield ctx.finding(ERROR, "healthcheck", f"long-running service without a healthcheck{detail}")


def _memory(ctx: ServiceContext) -> Iterator[Finding]:
    if _get(ctx.service, "deploy", "resources", "limits", "memory") or ctx.service.get("mem_limit"):
        return
    yield ctx.finding(
        ERROR, "memory-limit", "no memory limit (deploy.resources.limits.memory or mem_limit)"
    )


def _cpu(ctx: ServiceContext) -> Iterator[Finding]:
    service = ctx.service
    if (
        _get(service, "deploy", "resources", "limits", "cpus")
        or service.get("cpus")
        or service.get("cpu_quota")
    ):
        return
    yield ctx.finding(WARNING, "cpu-limit", "no CPU limit (deploy.resources.limits.cpus or cpus)")


def _logging(ctx: ServiceContext) -> Iterator[Finding]:
    logging = ctx.service.get("logging")
    if not isinstance(logging, dict):
        yield ctx.finding(
            ERROR,
            "log-rotation",
            "no logging: the engine's default json-file driver never rotates"
            " (set max-size and max-file, or use the local driver)",
        )
        return
    driver = logging.get("driver") or "json-file"
    at = ctx.key_at("logging")
    if driver == "json-file":
        options = logging.get("options") or {}
        missing = [o for o in ("max-size", "max-file") if o not in options]
        if missing:
            yield ctx.finding(
                ERROR, "log-rotation", f"json-file logging without {' and '.join(missing)}", at
            )
    elif driver == "none":
        yield ctx.finding(WARNING, "log-rotation", "logging driver 'none' discards every log", at)


def _restart(ctx: ServiceContext) -> Iterator[Finding]:
    if ctx.one_off:
        return
    restart = ctx.service.get("restart")
    condition = _get(ctx.service, "deploy", "restart_policy", "condition")
    if str(restart or "") in ("always", "unless-stopped") or str(restart or "").startswith(
        "on-failure"
    ):
        return
    if condition in ("any", "on-failure"):
        return
    if restart is None and condition is None and ctx.swarm:
        return  # swarm restarts tasks by default (condition: any)
    if restart is not None:
        yield ctx.finding(
            ERROR,
            "restart-policy",
            f"restart: {restart!r} on a long-running service",
            ctx.key_at("restart"),
        )
        return
    yield ctx.finding(
        ERROR,
        "restart-policy",
        "no restart policy (restart: unless-stopped, or deploy.restart_policy)",
    )


def _is_root(user: str) -> bool:
    name = user.split(":", 1)[0].strip()
    return name in ("", "root", "0")


def _non_root(ctx: ServiceContext) -> Iterator[Finding]:
    user = ctx.service.get("user")
    if user is not None and str(user) != "":
        value = with_defaults(user)
        if value is None:
            yield ctx.finding(
                WARNING,
                "non-root",
                f"user {user!r} comes from a variable; not verified",
                ctx.key_at("user"),
            )
        elif _is_root(value):
            yield ctx.finding(ERROR, "non-root", f"runs as root (user: {user})", ctx.key_at("user"))
        return
    facts = ctx.facts()
    if facts is None:
        image = ctx.image() or "(built from source)"
        yield ctx.finding(
            WARNING,
            "non-root",
            f"no user:, and image {image} is not present locally: could not verify"
            " that it runs as a non-root user",
        )
    elif _is_root(facts.user):
        yield ctx.finding(
            ERROR, "non-root", f"runs as root: no user: and image {ctx.image()} sets no USER"
        )


def _image(ctx: ServiceContext) -> Iterator[Finding]:
    if ctx.pinned:
        return
    image = ctx.service.get("image")
    if image is None:
        if ctx.service.get("build") is not None:
            yield ctx.finding(
                WARNING,
                "image-tag",
                "built from source at deploy time; release it as an image"
                " ([[images]] with services = [...])",
            )
        return
    at = ctx.key_at("image")
    value = with_defaults(image)
    if value is None:
        yield ctx.finding(
            WARNING, "image-tag", f"image {image!r} comes from a variable; tag not verified", at
        )
        return
    if "@" in value:
        return  # pinned by digest
    last = value.rsplit("/", 1)[-1]
    if ":" not in last:
        yield ctx.finding(ERROR, "image-tag", f"image {value!r} has no tag (means latest)", at)
    elif last.rsplit(":", 1)[1] == "latest":
        yield ctx.finding(ERROR, "image-tag", f"image {value!r} uses the latest tag", at)


def _secrets(ctx: ServiceContext) -> Iterator[Finding]:
    environment = ctx.service.get("environment")
    if not isinstance(environment, LocatedDict):
        return
    for key, value in environment.items():
        name = str(key)
        if not SECRET_NAME.search(name) or name.upper().endswith("_FILE"):
            continue
        if value is None or str(value) == "" or interpolated(value):
            continue
        yield ctx.finding(
            ERROR,
            "inline-secret",
            f"{name} has a literal value in environment: (use ${{{name}}}, env_file,"
            f" secrets: or {name}_FILE)",
            environment.where.get(key, ctx.at),
        )


def _socket(ctx: ServiceContext) -> Iterator[Finding]:
    volumes = ctx.service.get("volumes")
    if not isinstance(volumes, LocatedList):
        return
    for item, at in zip(volumes, volumes.where, strict=True):
        source = item.get("source") if isinstance(item, dict) else str(item).split(":")[0]
        if "docker.sock" in str(source or "") or "docker.sock" in str(volume_target(item)):
            yield ctx.finding(
                ERROR, "docker-socket", "mounts the Docker socket (root on the host)", at
            )


def _privileged(ctx: ServiceContext) -> Iterator[Finding]:
    if ctx.service.get("privileged") is True:
        yield ctx.finding(ERROR, "privileged", "privileged: true", ctx.key_at("privileged"))


_RULES = (
    _healthcheck,
    _memory,
    _cpu,
    _logging,
    _restart,
    _non_root,
    _image,
    _secrets,
    _socket,
    _privileged,
)
