"""Compose files read with the line of every key, and merged as compose merges them.

A compose file loads into :class:`Located` mappings and lists: plain ``dict``
and ``list`` values that also remember, for each key or item, the file and
line that set it (YAML merge keys ``<<:`` and anchors are resolved, so a
``logging: *logging`` is located at the ``logging:`` key of the service).

Merging (later files override earlier ones), as the Compose Specification
describes it:

- mappings merge key by key, recursively;
- ``environment``, ``labels``, ``extra_hosts``, ``sysctls`` and ``ulimits`` are
  mappings even when written as ``KEY=VALUE`` lists, and merge by key;
- ``ports``, ``expose``, ``dns``, ``dns_search``, ``tmpfs``, ``cap_add``,
  ``cap_drop``, ``security_opt``, ``external_links``, ``env_file`` and
  ``devices`` append (an item already present is not repeated);
- ``volumes`` merge by container path: a later mount of the same target
  replaces the earlier one, others append;
- ``logging`` with a different ``driver`` replaces the earlier one whole;
- everything else (scalars, ``command``, ``healthcheck.test``, ``profiles``...)
  is replaced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from relkit.errors import ConfigError


@dataclass(frozen=True)
class Where:
    """A file and a 1-based line."""

    file: Path
    line: int


class LocatedDict(dict[Any, Any]):
    """A mapping that knows where each of its keys was written, and where it starts."""

    def __init__(self, at: Where) -> None:
        super().__init__()
        self.at = at
        self.where: dict[Any, Where] = {}


class LocatedList(list[Any]):
    """A list that knows where each of its items was written."""

    def __init__(self, at: Where) -> None:
        super().__init__()
        self.at = at
        self.where: list[Where] = []

    def add(self, item: Any, where: Where) -> None:
        self.append(item)
        self.where.append(where)


AS_MAPPING = {"environment", "labels", "extra_hosts", "sysctls", "ulimits"}
APPENDED = {
    "ports",
    "expose",
    "dns",
    "dns_search",
    "tmpfs",
    "cap_add",
    "cap_drop",
    "security_opt",
    "external_links",
    "env_file",
    "devices",
}


def load_located(path: Path) -> LocatedDict:
    """Read one compose file; every mapping and list knows its lines."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def where(node: Any) -> Where:
        return Where(path, node.start_mark.line + 1)

    def mapping(loader: Loader, node: Any) -> LocatedDict:
        loader.flatten_mapping(node)
        result = LocatedDict(where(node))
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            result[key] = loader.construct_object(value_node, deep=True)
            result.where[key] = where(key_node)
        return result

    def sequence(loader: Loader, node: Any) -> LocatedList:
        result = LocatedList(where(node))
        for child in node.value:
            result.add(loader.construct_object(child, deep=True), where(child))
        return result

    Loader.add_constructor("tag:yaml.org,2002:map", mapping)
    Loader.add_constructor("tag:yaml.org,2002:seq", sequence)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"compose file {path} does not exist", "fix compose_files") from None
    try:
        data = yaml.load(text, Loader=Loader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{at}: invalid YAML: {problem}", "fix the compose file") from None
    if data is None:
        return LocatedDict(Where(path, 1))
    if not isinstance(data, LocatedDict):
        raise ConfigError(f"{path}:1: a compose file must be a mapping", "fix the compose file")
    services = data.get("services")
    if services is not None and not isinstance(services, LocatedDict):
        raise ConfigError(
            f"{data.where['services'].file}:{data.where['services'].line}:"
            " 'services' must be a mapping",
            "fix the compose file",
        )
    for service in (services or {}).values():
        if isinstance(service, LocatedDict):
            for key in AS_MAPPING & set(service):
                service[key] = _as_mapping(service[key])
    return data


def _as_mapping(value: Any) -> Any:
    """``["KEY=value", "FLAG"]`` as a located mapping (``FLAG`` maps to None)."""
    if not isinstance(value, LocatedList):
        return value
    result = LocatedDict(value.at)
    for item, at in zip(value, value.where, strict=True):
        key, sep, rest = str(item).partition("=")
        if not sep:
            key, sep, rest = str(item).partition(":")  # extra_hosts "host:ip"
        result[key.strip()] = rest if sep else None
        result.where[key.strip()] = at
    return result


def merge_files(paths: Sequence[Path]) -> LocatedDict:
    """Load *paths* and merge them in order, as ``docker compose -f a -f b`` does."""
    merged: LocatedDict | None = None
    for path in paths:
        data = load_located(path)
        merged = data if merged is None else merge(merged, data)
    return merged if merged is not None else LocatedDict(Where(Path("."), 1))


def merge(base: LocatedDict, over: LocatedDict, key: str = "") -> LocatedDict:
    """*over* merged onto *base* (neither is changed)."""
    result = LocatedDict(base.at)
    result.update(base)
    result.where.update(base.where)
    if key == "logging" and "driver" in over and over.get("driver") != base.get("driver"):
        return over
    for name, value in over.items():
        old = result.get(name)
        if isinstance(old, LocatedDict) and isinstance(value, LocatedDict):
            result[name] = merge(old, value, str(name))  # keeps where the mapping began
            continue
        if isinstance(old, LocatedList) and isinstance(value, LocatedList):
            if name in APPENDED:
                result[name] = _append(old, value)
                continue
            if name == "volumes":
                result[name] = _merge_volumes(old, value)
                continue
        result[name] = value
        result.where[name] = over.where[name]
    return result


def _append(old: LocatedList, new: LocatedList) -> LocatedList:
    result = LocatedList(old.at)
    for item, at in [*zip(old, old.where, strict=True), *zip(new, new.where, strict=True)]:
        if item not in result:
            result.add(item, at)
    return result


def volume_target(item: Any) -> str | None:
    """The container path of a volume entry (short ``src:dst[:mode]`` or long syntax)."""
    if isinstance(item, dict):
        target = item.get("target")
        return str(target) if target is not None else None
    parts = str(item).split(":")
    return parts[1] if len(parts) > 1 else parts[0]


def _merge_volumes(old: LocatedList, new: LocatedList) -> LocatedList:
    targets = {volume_target(item) for item in new}
    result = LocatedList(old.at)
    for item, at in zip(old, old.where, strict=True):
        if volume_target(item) not in targets:
            result.add(item, at)
    for item, at in zip(new, new.where, strict=True):
        result.add(item, at)
    return result
