"""Configuration: ``[tool.relkit]`` in pyproject.toml or the top level of relkit.toml.

Found by walking up from the working directory (relkit.toml first, then a
pyproject.toml that has a ``[tool.relkit]`` table), validated into frozen
dataclasses. Unknown keys and wrong types are errors naming the file and line.
The schema itself lives in :mod:`relkit.config_schema`.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from relkit.errors import ConfigError
from relkit.toml_lines import line_of

CONFIG_FILES = ("relkit.toml", "pyproject.toml")


@dataclass(frozen=True)
class VersionFileConfig:
    path: str
    pattern: str | None = None


@dataclass(frozen=True)
class ImageConfig:
    name: str
    context: str = "."
    dockerfile: str = "Dockerfile"
    build_args: Mapping[str, str] = field(default_factory=dict)
    services: tuple[str, ...] = ()


@dataclass(frozen=True)
class SmokeCheck:
    url: str
    status: int = 200
    json: Mapping[str, Any] | None = None
    contains: str | None = None
    retries: int = 5
    timeout: float = 5.0


@dataclass(frozen=True)
class EnvironmentConfig:
    name: str
    driver: str = "compose"
    compose_files: tuple[str, ...] = ("docker-compose.yml",)
    project: str | None = None
    stack: str | None = None
    docker_host: str = ""
    migrate: str | None = None
    pre_deploy: tuple[str, ...] = ()
    restore: str | None = None
    health_timeout: float = 120.0
    health_settle: float = 0.5
    smoke: tuple[SmokeCheck, ...] = ()
    approval: bool = False
    notify: tuple[str, ...] = ()


@dataclass(frozen=True)
class Config:
    """The validated configuration. ``root`` is where relative paths start."""

    root: Path
    file: Path | None = None
    scheme: str = "semver"
    tag_format: str = "v{version}"
    changelog: str = "CHANGELOG.md"
    changelog_link_base: str | None = None
    changelog_forge: str | None = None
    sign_tags: bool = False
    release_branches: tuple[str, ...] = ("main",)
    commit_message: str = "chore(release): {version}"
    version_files: tuple[VersionFileConfig, ...] = ()
    images: tuple[ImageConfig, ...] = ()
    environments: Mapping[str, EnvironmentConfig] = field(default_factory=dict)
    checks: tuple[str, ...] = ()
    prerelease_envs: tuple[str, ...] = ("staging",)

    def tag_for(self, version: object) -> str:
        return self.tag_format.format(version=version)

    def environment(self, name: str) -> EnvironmentConfig:
        try:
            return self.environments[name]
        except KeyError:
            known = ", ".join(self.environments) or "none configured"
            raise ConfigError(
                f"unknown environment {name!r}",
                f"known: {known}{_did_you_mean(name, list(self.environments))}",
            ) from None


def find_config_file(start: Path) -> Path | None:
    """The nearest relkit.toml, or pyproject.toml with ``[tool.relkit]``, at or above *start*."""
    for directory in (start, *start.parents):
        candidate = directory / "relkit.toml"
        if candidate.is_file():
            return candidate
        candidate = directory / "pyproject.toml"
        if candidate.is_file() and _has_relkit_table(candidate):
            return candidate
        if (directory / ".git").exists():
            return None
    return None


def _has_relkit_table(path: Path) -> bool:
    text = path.read_text(encoding="utf-8", errors="replace")
    return re.search(r"^\s*\[\[?\s*tool\s*\.\s*relkit\b", text, re.MULTILINE) is not None


def _project_root(start: Path) -> Path:
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return start


def load_config(start: Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Find, read and validate the configuration, applying ``RELKIT_*`` overrides."""
    start = (start or Path.cwd()).resolve()
    env = os.environ if env is None else env
    path = find_config_file(start)
    if path is None:
        raw: dict[str, Any] = {}
        text = ""
        root = _project_root(start)
    else:
        text = path.read_text(encoding="utf-8")
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}", "fix the syntax") from None
        raw = data if path.name == "relkit.toml" else data.get("tool", {}).get("relkit", {})
        root = path.parent
    from relkit.config_schema import build_config

    return build_config(raw, root=root, file=path, text=text, env=env)


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


class ConfigContext:
    """Where the raw values came from, to name file and line in errors."""

    def __init__(self, file: Path | None, text: str) -> None:
        self.file = file
        self.text = text

    def where(self, path: tuple[str | int, ...]) -> str:
        if self.file is None:
            return "configuration"
        prefix = ("tool", "relkit") if self.file.name == "pyproject.toml" else ()
        line = line_of(self.text, path, prefix)
        return f"{self.file}:{line}" if line else str(self.file)

    def unknown(self, path: tuple[str | int, ...], key: str, known: list[str]) -> ConfigError:
        dotted = ".".join(str(p) for p in (*path, key))
        return ConfigError(
            f"{self.where((*path, key))}: unknown key {dotted!r}{_did_you_mean(key, known)}",
            f"known keys here: {', '.join(sorted(known))}",
        )

    def wrong_type(self, path: tuple[str | int, ...], expected: str, value: object) -> ConfigError:
        dotted = ".".join(str(p) for p in path)
        return ConfigError(
            f"{self.where(path)}: {dotted} must be {expected}, not {type(value).__name__}"
            f" ({value!r})",
            "fix the value in the config file",
        )
