"""Compose files as a swarm stack: what ``docker stack deploy`` accepts, and relkit's override.

Pure functions over the YAML documents of the environment's compose files:

* :func:`sanitize` drops the services a stack must not run as long-running
  services (one-off jobs: pre_deploy, migrate, restore, and every service with
  ``profiles``, which compose does not start by default either), removes the
  container-level keys that the stack loader rejects and that have a swarm
  equivalent under ``deploy:`` (``mem_limit``, ``cpus``, …), rewrites the
  compose-only forms it rejects (``depends_on`` conditions, ``env_file`` entries
  with ``path:``) and makes relative paths absolute, so the copies can live in
  a temporary directory.
* :func:`plan_updates` decides each service's ``update_config`` and
  ``rollback_config``: start-first, failure_action rollback, a monitor window
  that covers the healthcheck, and stop-first where a host-mode port makes
  start-first impossible.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from relkit.docker.swarm import NodeState

# Container-level keys that the stack loader refuses; swarm sets these under deploy.
RESOURCE_KEYS = (
    "mem_limit",
    "memswap_limit",
    "mem_reservation",
    "mem_swappiness",
    "cpus",
    "cpu_count",
    "cpu_percent",
    "cpu_shares",
    "cpu_quota",
    "cpu_period",
    "cpu_rt_runtime",
    "cpu_rt_period",
    "cpuset",
    "oom_kill_disable",
    "pids_limit",
)
COMPOSE_ONLY_KEYS = ("pull_policy",)  # swarm pulls what the spec names (here: a digest)
FAILED_UPDATE_STATES = ("paused", "rollback_started", "rollback_paused", "rollback_completed")
MIN_MONITOR = 5.0  # swarm's own default


@dataclass
class StackFiles:
    documents: list[dict[str, Any]]
    dropped: list[str] = field(default_factory=list)  # services not deployed with the stack
    notes: list[str] = field(default_factory=list)  # what was changed, for a warning


def _absolute(value: str, base: Path) -> str:
    if value.startswith(("/", "$", "~")) or "://" in value:
        return value
    if value.startswith("."):
        return str((base / value).resolve())
    return value  # a named volume, not a path


def _fix_volume(entry: Any, base: Path) -> Any:
    if isinstance(entry, str):
        parts = entry.split(":")
        if len(parts) >= 2:
            parts[0] = _absolute(parts[0], base)
            return ":".join(parts)
        return entry
    if isinstance(entry, dict) and entry.get("type", "volume") == "bind" and "source" in entry:
        return {**entry, "source": _absolute(str(entry["source"]), base)}
    return entry


def _fix_env_file(value: Any, base: Path) -> list[str]:
    entries = value if isinstance(value, list) else [value]
    out = []
    for entry in entries:
        path = entry.get("path") if isinstance(entry, dict) else entry
        if path is not None:
            out.append(str((base / str(path)).resolve()) if not str(path).startswith("/") else path)
    return out


def _service(name: str, service: dict[str, Any], base: Path, notes: list[str]) -> dict[str, Any]:
    service = copy.deepcopy(service)
    stripped = [k for k in (*RESOURCE_KEYS, *COMPOSE_ONLY_KEYS) if k in service]
    for key in stripped:
        del service[key]
    if stripped:
        notes.append(f"{name}: ignored on swarm: {', '.join(stripped)} (swarm reads deploy:)")
    if isinstance(service.get("depends_on"), dict):
        service["depends_on"] = list(service["depends_on"])
    if "env_file" in service:
        service["env_file"] = _fix_env_file(service["env_file"], base)
    if isinstance(service.get("volumes"), list):
        service["volumes"] = [_fix_volume(v, base) for v in service["volumes"]]
    return service


def sanitize(
    documents: Sequence[dict[str, Any]],
    base: Path,
    skip: Sequence[str] = (),
    only: str | None = None,
) -> StackFiles:
    """Stack-deployable copies of *documents* (one per compose file, in order).

    *skip*: services never deployed as part of the stack (one-off jobs).
    *only*: keep just this service (a one-off job run as a stack service).
    Paths are resolved against *base*, the directory of the first file.
    """
    profiled = {
        str(name)
        for doc in documents
        for name, service in (doc.get("services") or {}).items()
        if isinstance(service, dict) and service.get("profiles")
    }
    dropped = sorted((set(skip) | profiled) - ({only} if only else set()))
    notes: list[str] = []
    out = []
    for doc in documents:
        doc = {k: copy.deepcopy(v) for k, v in doc.items() if k not in ("name", "include")}
        services = {}
        for name, service in (doc.get("services") or {}).items():
            name = str(name)
            if name in dropped or (only is not None and name != only):
                continue
            service = _service(name, service or {}, base, notes)
            service.pop("profiles", None)
            if only is not None:
                service.pop("depends_on", None)  # swarm ignores it; the others are not here
            services[name] = service
        doc["services"] = services
        for section in ("configs", "secrets"):
            for item in (doc.get(section) or {}).values():
                if isinstance(item, dict) and isinstance(item.get("file"), str):
                    item["file"] = str((base / item["file"]).resolve())
        out.append(doc)
    return StackFiles(out, [d for d in dropped if only is None], sorted(set(notes)))


# -- durations and the monitor window ----------------------------------------

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")


def seconds(value: Any, nanoseconds: bool = False) -> float | None:
    """A compose/Go duration ("1m30s", "500ms", "10s") in seconds.

    Numbers are seconds, or nanoseconds when *nanoseconds* (the engine's API form).
    """
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) / 1e9 if nanoseconds else float(value)
    text = str(value).strip()
    if not text:
        return None
    pos = 0
    total = 0.0
    for match in _PART.finditer(text):
        if match.start() != pos:
            raise ValueError(f"not a duration: {value!r}")
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(text):
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"not a duration: {value!r}") from None
    return total


def fmt(value: float) -> str:
    return f"{value:g}s"


def health_window(check: Mapping[str, Any] | None) -> float | None:
    """start_period + interval × retries: how long a failing task takes to be declared failed.

    *check*: a compose ``healthcheck`` (durations as strings) or an image's
    ``Healthcheck`` (nanoseconds, capitalised keys). None without a healthcheck.
    """
    if not check:
        return None
    lower = {str(k).lower().replace("_", ""): v for k, v in check.items()}
    test = lower.get("test")
    if lower.get("disable") or (isinstance(test, list) and test[:1] == ["NONE"]):
        return None
    api = any(str(k)[:1].isupper() for k in check)  # an image's config: nanoseconds
    interval = seconds(lower.get("interval"), api) or 30.0
    retries = int(lower.get("retries") or 3)
    start = seconds(lower.get("startperiod"), api) or 0.0
    return start + interval * retries


# -- placement and the host-mode port hazard -----------------------------------

_CONSTRAINT = re.compile(r"^\s*([\w.\-]+)\s*(==|!=)\s*(.+?)\s*$")


def _node_value(node: NodeState, key: str) -> str | None:
    fixed = {
        "node.id": node.id,
        "node.hostname": node.hostname,
        "node.role": node.role,
        "node.platform.os": node.os,
        "node.platform.arch": node.arch,
    }
    if key in fixed:
        return fixed[key]
    if key.startswith("node.labels."):
        return node.labels.get(key[len("node.labels.") :])
    if key.startswith("engine.labels."):
        return node.engine_labels.get(key[len("engine.labels.") :])
    return None


def eligible(node: NodeState, constraints: Sequence[str]) -> bool:
    """Whether *node* may run a task under *constraints* (unknown forms: assumed yes)."""
    if not node.ready:
        return False
    for constraint in constraints:
        match = _CONSTRAINT.match(constraint)
        if not match:
            continue
        key, op, wanted = match.groups()
        value = _node_value(node, key)
        if value is None and not key.startswith(("node.labels.", "engine.labels.")):
            continue
        if (value == wanted) != (op == "=="):
            return False
    return True


def host_ports(service: Mapping[str, Any]) -> list[str]:
    """The published host-mode ports of a merged stack service."""
    out = []
    for port in service.get("ports") or []:
        if isinstance(port, dict) and port.get("mode") == "host" and port.get("published"):
            out.append(str(port["published"]))
    return out


@dataclass(frozen=True)
class UpdatePlan:
    service: str
    order: str
    monitor: float
    warnings: tuple[str, ...] = ()


def plan_update(
    name: str,
    service: Mapping[str, Any],
    nodes: Sequence[NodeState],
    image_check: Mapping[str, Any] | None = None,
    start_first: bool = True,
) -> UpdatePlan | None:
    """The update policy relkit sets for one merged service (None: a job, no updates)."""
    deploy = service.get("deploy") or {}
    mode = deploy.get("mode", "replicated")
    if str(mode).endswith("job"):
        return None
    update = deploy.get("update_config") or {}
    warnings = []
    window = health_window(service.get("healthcheck")) or health_window(image_check)
    monitor = max(MIN_MONITOR, window or 0.0)
    user_monitor = seconds(update.get("monitor"))
    if user_monitor is not None:
        if window is not None and user_monitor < window:
            warnings.append(
                f"{name}: update_config.monitor {fmt(user_monitor)} is shorter than the"
                f" healthcheck needs to fail a task (start_period + interval × retries ="
                f" {fmt(window)}); relkit uses {fmt(monitor)} so that a bad task is seen"
            )
        monitor = max(monitor, user_monitor)
    order = str(update.get("order") or ("start-first" if start_first else "stop-first"))
    ports = host_ports(service)
    if order == "start-first" and ports:
        constraints = (deploy.get("placement") or {}).get("constraints") or []
        fit = sum(1 for node in nodes if eligible(node, constraints))
        replicas = int(deploy.get("replicas", 1)) if mode == "replicated" else fit
        if replicas >= fit:
            order = "stop-first"
            warnings.append(
                f"{name}: {replicas} replica(s) publish host-mode port(s) {', '.join(ports)} on"
                f" {fit} eligible node(s), so a start-first task could never be placed;"
                " updating stop-first (a short outage of this service). Add nodes, lower"
                " replicas, or publish without host mode to get start-first"
            )
    return UpdatePlan(name, order, monitor, tuple(warnings))


def override_document(
    pins: Mapping[str, str],
    plans: Mapping[str, UpdatePlan],
    version: str | None = None,
) -> dict[str, Any]:
    """relkit's own stack file: images by digest and the update policy of each service."""
    services: dict[str, Any] = {}
    for name, ref in sorted(pins.items()):
        services.setdefault(name, {})["image"] = ref
    for name, plan in sorted(plans.items()):
        policy = {"order": plan.order, "monitor": fmt(plan.monitor)}
        services.setdefault(name, {})["deploy"] = {
            "update_config": {**policy, "failure_action": "rollback"},
            "rollback_config": {**policy, "failure_action": "pause"},
        }
    document: dict[str, Any] = {"services": services}
    if version:
        document = {"version": version, **document}
    return document
