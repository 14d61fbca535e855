"""Reading compose files (YAML) without running compose."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from relkit.errors import ConfigError


def load(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"compose file {path} does not exist", "fix compose_files") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: invalid YAML: {problem}", "fix the compose file") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a compose file must be a mapping", "fix the compose file")
    return data


def service_names(root: Path, files: Sequence[str]) -> list[str]:
    """Every service defined across *files*, in the order first seen."""
    names: list[str] = []
    for name in files:
        services = load(root / name).get("services") or {}
        if not isinstance(services, dict):
            raise ConfigError(f"{root / name}: 'services' must be a mapping", "fix the file")
        for service in services:
            if service not in names:
                names.append(str(service))
    return names
