"""The schema of relkit's configuration and its validation.

Each table is described by a mapping ``key -> (expected, converter)``; the
converter checks the raw TOML value and turns it into the frozen value. The
same tables drive the config reference in docs/ (a test keeps them in step).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from relkit.config import (
    Config,
    ConfigContext,
    EnvironmentConfig,
    ImageConfig,
    SmokeCheck,
    VersionFileConfig,
)
from relkit.errors import ConfigError

Path_ = tuple[str | int, ...]
Converter = Callable[[ConfigContext, Path_, Any], Any]


def _str(ctx: ConfigContext, path: Path_, value: Any) -> str:
    if not isinstance(value, str):
        raise ctx.wrong_type(path, "a string", value)
    return value


def _opt_str(ctx: ConfigContext, path: Path_, value: Any) -> str | None:
    return _str(ctx, path, value) or None


def _bool(ctx: ConfigContext, path: Path_, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ctx.wrong_type(path, "true or false", value)
    return value


def _int(ctx: ConfigContext, path: Path_, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ctx.wrong_type(path, "an integer", value)
    return value


def _seconds(ctx: ConfigContext, path: Path_, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ctx.wrong_type(path, "a positive number of seconds", value)
    return float(value)


def _non_negative_seconds(ctx: ConfigContext, path: Path_, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ctx.wrong_type(path, "a number of seconds (0 or more)", value)
    return float(value)


def _str_list(ctx: ConfigContext, path: Path_, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ctx.wrong_type(path, "a list of strings", value)
    return tuple(value)


def _str_map(ctx: ConfigContext, path: Path_, value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ctx.wrong_type(path, "a table of strings", value)
    for key, item in value.items():
        if not isinstance(item, str | int | float | bool):
            raise ctx.wrong_type((*path, key), "a string", item)
    return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in value.items()}


def _choice(*choices: str) -> Converter:
    def convert(ctx: ConfigContext, path: Path_, value: Any) -> str:
        if value not in choices:
            raise ConfigError(
                f"{ctx.where(path)}: {'.'.join(map(str, path))} is {value!r}",
                f"use one of: {', '.join(repr(c) for c in choices)}",
            )
        return str(value)

    return convert


def _json_table(ctx: ConfigContext, path: Path_, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ctx.wrong_type(path, "a table", value)
    return value


def _table(
    ctx: ConfigContext, path: Path_, value: Any, schema: Mapping[str, Field]
) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ctx.wrong_type(path, "a table", value)
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key not in schema:
            raise ctx.unknown(path, key, list(schema))
        out[key] = schema[key][1](ctx, (*path, key), item)
    return out


def _table_list(schema: Mapping[str, Field], required: tuple[str, ...], make: Any) -> Converter:
    def convert(ctx: ConfigContext, path: Path_, value: Any) -> tuple[Any, ...]:
        if not isinstance(value, list):
            raise ctx.wrong_type(path, "an array of tables", value)
        items = []
        for index, item in enumerate(value):
            fields = _table(ctx, (*path, index), item, schema)
            for name in required:
                if name not in fields:
                    raise ConfigError(
                        f"{ctx.where((*path, index))}: {'.'.join(map(str, path))}[{index}]"
                        f" needs {name!r}",
                        f"add {name} = ... to that entry",
                    )
            items.append(make(**fields))
        return tuple(items)

    return convert


Field = tuple[str, Converter]

VERSION_FILE: dict[str, Field] = {
    "path": ("file path, relative to the config file", _str),
    "pattern": ("text around the version, with a {version} placeholder", _opt_str),
}

IMAGE: dict[str, Field] = {
    "name": ("image repository, e.g. registry.example.com/acme/api", _str),
    "context": ("build context directory", _str),
    "dockerfile": ("Dockerfile path, relative to the context", _str),
    "build_args": ("extra build arguments", _str_map),
    "services": ("compose/stack services that run this image", _str_list),
}

SMOKE: dict[str, Field] = {
    "url": ("URL to request; {version} is substituted", _str),
    "status": ("expected HTTP status", _int),
    "json": ("JSON fields the response must contain; {version} substituted", _json_table),
    "contains": ("text the body must contain", _opt_str),
    "retries": ("attempts before the check fails", _int),
    "timeout": ("seconds per request", _seconds),
}

ENVIRONMENT: dict[str, Field] = {
    "driver": ("'compose' (one engine) or 'swarm'", _choice("compose", "swarm")),
    "compose_files": ("compose files, merged in order", _str_list),
    "project": ("compose project name (compose driver)", _opt_str),
    "stack": ("stack name (swarm driver)", _opt_str),
    "docker_host": ("engine address; default DOCKER_HOST or the local engine", _str),
    "migrate": ("one-off service run before the rollout", _opt_str),
    "pre_deploy": ("one-off services run before migrate, in order (e.g. backup)", _str_list),
    "restore": ("one-off service that restores a backup (rollback --restore-db)", _opt_str),
    "health_timeout": ("seconds to wait for every service to be healthy", _seconds),
    "health_settle": (
        "seconds every service must stay healthy (and not restart) before the gate passes",
        _non_negative_seconds,
    ),
    "smoke": ("HTTP smoke tests run after the rollout", _table_list(SMOKE, ("url",), SmokeCheck)),
    "approval": ("ask for approval before deploying", _bool),
    "notify": ("Slack-compatible webhook URLs (never printed)", _str_list),
}


def _environments(ctx: ConfigContext, path: Path_, value: Any) -> dict[str, EnvironmentConfig]:
    if not isinstance(value, dict):
        raise ctx.wrong_type(path, "a table of environments", value)
    return {
        name: EnvironmentConfig(name=name, **_table(ctx, (*path, name), item, ENVIRONMENT))
        for name, item in value.items()
    }


TOP: dict[str, Field] = {
    "scheme": ("version scheme: 'semver' (SemVer 2.0.0) or 'pep440'", _choice("semver", "pep440")),
    "tag_format": ("tag name, with a {version} placeholder", _str),
    "changelog": ("changelog file", _str),
    "changelog_link_base": ("repository URL for compare links (default: from origin)", _opt_str),
    "changelog_forge": (
        "URL forms of compare links: 'github', 'gitlab', 'gitea' or 'bitbucket'"
        " (default: guessed from the host)",
        _choice("github", "gitlab", "gitea", "bitbucket"),
    ),
    "sign_tags": ("sign release tags (gpg or ssh per git's gpg.format)", _bool),
    "release_branches": ("branches a release may be made from", _str_list),
    "commit_message": ("release commit message, with a {version} placeholder", _str),
    "version_files": (
        "files that carry the version, added to the auto-detected ones",
        _table_list(VERSION_FILE, ("path",), VersionFileConfig),
    ),
    "images": ("images to build", _table_list(IMAGE, ("name",), ImageConfig)),
    "environments": ("deploy targets", _environments),
    "checks": ("commands run by release preflight (e.g. the test suite)", _str_list),
    "prerelease_envs": ("environments a pre-release is deployed to", _str_list),
}

# Keys that a RELKIT_<KEY> environment variable may override (for CI).
ENV_OVERRIDES: dict[str, Callable[[str], Any]] = {
    "scheme": str,
    "tag_format": str,
    "changelog": str,
    "changelog_link_base": str,
    "changelog_forge": str,
    "sign_tags": lambda v: v.strip().lower() in ("1", "true", "yes", "on"),
    "release_branches": lambda v: [b.strip() for b in v.split(",") if b.strip()],
    "commit_message": str,
    "prerelease_envs": lambda v: [b.strip() for b in v.split(",") if b.strip()],
}


def build_config(
    raw: dict[str, Any],
    *,
    root: Path,
    file: Path | None,
    text: str,
    env: Mapping[str, str],
) -> Config:
    ctx = ConfigContext(file, text)
    values = _table(ctx, (), raw, TOP)
    overridden: set[str] = set()
    for key, parse in ENV_OVERRIDES.items():
        override = env.get(f"RELKIT_{key.upper()}")
        if override is not None and override != "":
            env_ctx = ConfigContext(None, "")
            values[key] = TOP[key][1](env_ctx, (f"RELKIT_{key.upper()}",), parse(override))
            overridden.add(key)
    for template_key in ("tag_format", "commit_message"):
        template = values.get(template_key)
        if template is None:
            continue
        if template_key in overridden:
            _check_template(template, f"configuration: RELKIT_{template_key.upper()}")
        else:
            _check_template(template, f"{ctx.where((template_key,))}: {template_key}")
    return Config(root=root, file=file, **values)


def _check_template(template: str, what: str) -> None:
    """*template* formats with ``{version}`` and nothing else (no traceback at release time)."""
    if "{version}" not in template:
        raise ConfigError(
            f"{what} {template!r} has no {{version}}", "add the {version} placeholder"
        )
    try:
        template.format(version="0.0.0")
    except (KeyError, IndexError, ValueError, AttributeError, TypeError):
        raise ConfigError(
            f"{what} {template!r} has a placeholder other than {{version}}",
            "write a literal brace as {{ or }}",
        ) from None
