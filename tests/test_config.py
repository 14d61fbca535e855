"""Configuration: discovery, validation into frozen values, errors with file and line."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest

from relkit.config import Config, EnvironmentConfig, ImageConfig, SmokeCheck, load_config
from relkit.errors import ConfigError


def _git_init(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _error(tmp_path: Path, name: str, text: str, env: dict[str, str] | None = None) -> str:
    repo = _git_init(tmp_path / "repo")
    _write(repo / name, text)
    with pytest.raises(ConfigError) as info:
        load_config(repo, env=env or {})
    return str(info.value)


# --- discovery ----------------------------------------------------------------------------


def test_no_config_gives_defaults_rooted_at_the_git_root(tmp_path: Path) -> None:
    repo = _git_init(tmp_path / "repo")
    sub = repo / "src" / "pkg"
    sub.mkdir(parents=True)
    config = load_config(sub, env={})
    assert config == Config(root=repo)
    assert config.file is None
    assert (config.scheme, config.tag_format, config.release_branches) == (
        "semver",
        "v{version}",
        ("main",),
    )
    assert config.commit_message == "chore(release): {version}"


def test_pyproject_tool_relkit_is_read(tmp_path: Path) -> None:
    repo = _git_init(tmp_path / "repo")
    _write(
        repo / "pyproject.toml",
        '[project]\nname = "x"\n\n[tool.relkit]\nscheme = "pep440"\n'
        'tag_format = "release-{version}"\n'
        'release_branches = ["main", "release/1.x"]\n',
    )
    config = load_config(repo, env={})
    assert config.file == repo / "pyproject.toml"
    assert config.root == repo
    assert config.scheme == "pep440"
    assert config.tag_format == "release-{version}"
    assert config.release_branches == ("main", "release/1.x")
    assert config.tag_for("1.2.3") == "release-1.2.3"


def test_relkit_toml_has_the_keys_at_top_level_and_wins_over_pyproject(tmp_path: Path) -> None:
    repo = _git_init(tmp_path / "repo")
    _write(repo / "pyproject.toml", '[tool.relkit]\nscheme = "pep440"\n')
    _write(repo / "relkit.toml", 'scheme = "semver"\ncommit_message = "release {version}"\n')
    config = load_config(repo, env={})
    assert config.file == repo / "relkit.toml"
    assert config.scheme == "semver"
    assert config.commit_message == "release {version}"


def test_found_by_walking_up_and_pyproject_without_tool_relkit_is_skipped(tmp_path: Path) -> None:
    repo = _git_init(tmp_path / "repo")
    _write(repo / "relkit.toml", 'tag_format = "{version}"\n')
    service = repo / "services" / "api"
    _write(
        service / "pyproject.toml", '[project]\nname = "api"\nversion = "1.0.0"\n\n[tool.ruff]\n'
    )
    (service / "src").mkdir()
    config = load_config(service / "src", env={})
    assert config.file == repo / "relkit.toml"
    assert config.root == repo
    assert config.tag_format == "{version}"


def test_nearest_config_wins_and_sets_the_root(tmp_path: Path) -> None:
    repo = _git_init(tmp_path / "repo")
    _write(repo / "relkit.toml", 'tag_format = "top-{version}"\n')
    service = repo / "services" / "api"
    _write(service / "pyproject.toml", '[[tool.relkit.version_files]]\npath = "VERSION"\n')
    config = load_config(service, env={})
    assert config.file == service / "pyproject.toml"
    assert config.root == service
    assert config.tag_format == "v{version}"
    assert [entry.path for entry in config.version_files] == ["VERSION"]


def test_walking_up_stops_at_the_git_root(tmp_path: Path) -> None:
    _write(tmp_path / "relkit.toml", 'scheme = "pep440"\n')
    repo = _git_init(tmp_path / "repo")
    config = load_config(repo, env={})
    assert config.file is None
    assert config.scheme == "semver"
    assert config.root == repo


def test_default_start_is_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _git_init(tmp_path / "repo")
    _write(repo / "relkit.toml", 'changelog = "HISTORY.md"\n')
    monkeypatch.chdir(repo)
    assert load_config(env={}).changelog == "HISTORY.md"


def test_config_is_frozen(tmp_path: Path) -> None:
    config = load_config(_git_init(tmp_path / "repo"), env={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.scheme = "pep440"  # type: ignore[misc]


def test_full_example_from_the_spec(tmp_path: Path) -> None:
    repo = _git_init(tmp_path / "repo")
    _write(
        repo / "pyproject.toml",
        """\
[tool.relkit]
scheme = "semver"
sign_tags = true

[[tool.relkit.version_files]]
path = "package.json"
[[tool.relkit.version_files]]
path = "src/app/version.ts"
pattern = 'export const VERSION = "{version}"'

[[tool.relkit.images]]
name = "registry.example.com/acme/api"
build_args = { NODE_ENV = "production", WORKERS = 4, DEBUG = false }
services = ["api", "migrate"]

[tool.relkit.environments.staging]
driver = "compose"
compose_files = ["docker-compose.yml", "docker-compose.staging.yml"]
health_timeout = 120
smoke = [
  { url = "http://127.0.0.1:8080/health", status = 200 },
  { url = "http://127.0.0.1:8080/version", json = { version = "{version}" } },
]

[tool.relkit.environments.production]
driver = "swarm"
stack = "acme"
approval = true
""",
    )
    config = load_config(repo, env={})
    assert config.sign_tags is True
    assert [(v.path, v.pattern) for v in config.version_files] == [
        ("package.json", None),
        ("src/app/version.ts", 'export const VERSION = "{version}"'),
    ]
    assert config.images == (
        ImageConfig(
            name="registry.example.com/acme/api",
            build_args={"NODE_ENV": "production", "WORKERS": "4", "DEBUG": "false"},
            services=("api", "migrate"),
        ),
    )
    staging = config.environment("staging")
    assert staging == EnvironmentConfig(
        name="staging",
        driver="compose",
        compose_files=("docker-compose.yml", "docker-compose.staging.yml"),
        health_timeout=120.0,
        smoke=(
            SmokeCheck(url="http://127.0.0.1:8080/health", status=200),
            SmokeCheck(url="http://127.0.0.1:8080/version", json={"version": "{version}"}),
        ),
    )
    assert config.environment("production").approval is True
    with pytest.raises(ConfigError, match="did you mean 'staging'"):
        config.environment("stagign")


# --- unknown keys -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "where", "key", "suggestion"),
    [
        (
            "relkit.toml",
            'scheme = "semver"\ntag_fromat = "v{version}"\n',
            2,
            "tag_fromat",
            "tag_format",
        ),
        (
            "pyproject.toml",
            '[project]\nname = "x"\n\n[tool.relkit]\nscheme = "semver"\n'
            'release_branch = ["main"]\n',
            6,
            "release_branch",
            "release_branches",
        ),
        (
            "relkit.toml",
            '[environments.staging]\ndriver = "compose"\nheath_timeout = 60\n',
            3,
            "environments.staging.heath_timeout",
            "health_timeout",
        ),
        (
            "pyproject.toml",
            '[tool.relkit]\n[[tool.relkit.version_files]]\npath = "a"\n'
            '[[tool.relkit.version_files]]\npath = "b"\npatern = "{version}"\n',
            6,
            "version_files.1.patern",
            "pattern",
        ),
        (
            "relkit.toml",
            '[environments.staging]\nsmoke = [\n  { url = "http://a" },\n'
            '  { url = "http://b", statsu = 200 },\n]\n',
            4,
            "environments.staging.smoke.1.statsu",
            "status",
        ),
    ],
)
def test_unknown_key_names_file_line_and_suggests(
    tmp_path: Path, name: str, text: str, where: int, key: str, suggestion: str
) -> None:
    message = _error(tmp_path, name, text)
    assert message.startswith(f"{tmp_path / 'repo' / name}:{where}: unknown key {key!r}")
    assert f"did you mean {suggestion!r}?" in message


def test_unknown_key_far_from_any_known_one_lists_the_known_keys(tmp_path: Path) -> None:
    message = _error(tmp_path, "relkit.toml", "zzz = 1\n")
    assert "unknown key 'zzz'" in message
    assert "did you mean" not in message
    assert "known keys here: changelog, changelog_forge, changelog_link_base, checks," in message


# --- wrong types --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "where", "key", "expected"),
    [
        ("relkit.toml", 'scheme = "semver"\nsign_tags = "yes"\n', 2, "sign_tags", "true or false"),
        (
            "pyproject.toml",
            '[tool.relkit]\nrelease_branches = "main"\n',
            2,
            "release_branches",
            "a list of strings",
        ),
        (
            "pyproject.toml",
            '[tool.relkit]\nscheme = "semver"\n\n[tool.relkit.environments.staging]\n'
            'driver = "compose"\nhealth_timeout = "long"\n\n'
            "[tool.relkit.environments.production]\nhealth_timeout = 5\n",
            6,
            "environments.staging.health_timeout",
            "a positive number of seconds",
        ),
        (
            "relkit.toml",
            "[environments.production]\nhealth_timeout = 5\n"
            '[environments.staging]\napproval = "no"\n',
            4,
            "environments.staging.approval",
            "true or false",
        ),
        (
            "relkit.toml",
            '[[images]]\nname = "a"\nservices = ["x"]\n\n'
            '[[images]]\nname = "b"\nservices = "api"\n',
            7,
            "images.1.services",
            "a list of strings",
        ),
        (
            "pyproject.toml",
            '[tool.relkit]\n\n[[tool.relkit.images]]\nname = "a"\nservices = ["x"]\n\n'
            '[[tool.relkit.images]]\nname = "b"\nservices = "api"\n',
            9,
            "images.1.services",
            "a list of strings",
        ),
        (
            "relkit.toml",
            '[environments.staging]\ndriver = "compose"\nsmoke = [\n'
            '  { url = "http://a/health", status = 200 },\n'
            '  { url = "http://a/version", status = "ok" },\n]\n',
            5,
            "environments.staging.smoke.1.status",
            "an integer",
        ),
        (
            "pyproject.toml",
            '[tool.relkit.environments.staging]\nsmoke = [{ url = "http://a", status = 200 },'
            " { url = 7 }]\n",
            2,
            "environments.staging.smoke.1.url",
            "a string",
        ),
        ("relkit.toml", "environments = 3\n", 1, "environments", "a table of environments"),
    ],
)
def test_wrong_type_names_key_file_and_line(
    tmp_path: Path, name: str, text: str, where: int, key: str, expected: str
) -> None:
    message = _error(tmp_path, name, text)
    assert message.startswith(f"{tmp_path / 'repo' / name}:{where}: {key} must be {expected}, not ")


def test_choice_error_lists_the_choices(tmp_path: Path) -> None:
    message = _error(tmp_path, "relkit.toml", '\nscheme = "calver"\n')
    assert message.startswith(f"{tmp_path / 'repo' / 'relkit.toml'}:2: scheme is 'calver'")
    assert "use one of: 'semver', 'pep440'" in message


def test_array_entry_without_a_required_key(tmp_path: Path) -> None:
    message = _error(
        tmp_path,
        "relkit.toml",
        '[[version_files]]\npath = "a"\n[[version_files]]\npattern = "{version}"\n',
    )
    assert "version_files[1] needs 'path'" in message
    assert "relkit.toml:3" in message


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    message = _error(tmp_path, "relkit.toml", 'scheme = "semver\n')
    assert f"{tmp_path / 'repo' / 'relkit.toml'}: invalid TOML" in message


@pytest.mark.parametrize("key", ["tag_format", "commit_message"])
def test_template_without_version_placeholder_is_rejected(tmp_path: Path, key: str) -> None:
    message = _error(tmp_path, "relkit.toml", f'changelog = "C.md"\n{key} = "release"\n')
    assert message.startswith(
        f"{tmp_path / 'repo' / 'relkit.toml'}:2: {key} 'release' has no {{version}}"
    )


@pytest.mark.parametrize(
    "template", ["v{version}-{flavour}", "release {version} {ci skip}", "v{version}{"]
)
def test_template_with_another_placeholder_is_rejected(tmp_path: Path, template: str) -> None:
    message = _error(tmp_path, "relkit.toml", f"commit_message = {template!r}\n")
    assert message.startswith(f"{tmp_path / 'repo' / 'relkit.toml'}:1: commit_message")
    assert "{{" in message  # the hint says how to write a literal brace


def test_literal_braces_in_a_template_are_fine(tmp_path: Path) -> None:
    repo = _git_init(tmp_path / "repo")
    _write(repo / "relkit.toml", 'commit_message = "release {version} {{skip ci}}"\n')
    config = load_config(repo, env={})
    assert config.commit_message.format(version="1.0.0") == "release 1.0.0 {skip ci}"


# --- environment overrides ----------------------------------------------------------------


def test_env_overrides_win_over_the_file(tmp_path: Path) -> None:
    repo = _git_init(tmp_path / "repo")
    _write(
        repo / "relkit.toml", 'scheme = "semver"\nrelease_branches = ["main"]\nsign_tags = true\n'
    )
    env = {
        "RELKIT_SCHEME": "pep440",
        "RELKIT_TAG_FORMAT": "rel-{version}",
        "RELKIT_RELEASE_BRANCHES": "main, release/1.x ,",
        "RELKIT_SIGN_TAGS": "0",
        "RELKIT_COMMIT_MESSAGE": "ci: release {version}",
        "RELKIT_CHANGELOG": "docs/CHANGES.md",
        "RELKIT_PRERELEASE_ENVS": "qa",
        "RELKIT_UNRELATED": "ignored",
    }
    config = load_config(repo, env=env)
    assert config.scheme == "pep440"
    assert config.tag_format == "rel-{version}"
    assert config.release_branches == ("main", "release/1.x")
    assert config.sign_tags is False
    assert config.commit_message == "ci: release {version}"
    assert config.changelog == "docs/CHANGES.md"
    assert config.prerelease_envs == ("qa",)


@pytest.mark.parametrize("value", ["true", "1", "YES", "on"])
def test_env_override_of_a_boolean(tmp_path: Path, value: str) -> None:
    assert (
        load_config(_git_init(tmp_path / "repo"), env={"RELKIT_SIGN_TAGS": value}).sign_tags is True
    )


def test_empty_env_override_is_ignored(tmp_path: Path) -> None:
    repo = _git_init(tmp_path / "repo")
    _write(repo / "relkit.toml", 'scheme = "pep440"\n')
    assert load_config(repo, env={"RELKIT_SCHEME": ""}).scheme == "pep440"


def test_env_is_read_from_the_process_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELKIT_SCHEME", "pep440")
    assert load_config(_git_init(tmp_path / "repo")).scheme == "pep440"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("RELKIT_SCHEME", "calver", "RELKIT_SCHEME is 'calver'"),
        ("RELKIT_TAG_FORMAT", "release", "RELKIT_TAG_FORMAT 'release' has no {version}"),
    ],
)
def test_bad_env_override_names_the_variable_not_the_file(
    tmp_path: Path, name: str, value: str, expected: str
) -> None:
    message = _error(tmp_path, "relkit.toml", 'changelog = "C.md"\n', env={name: value})
    assert expected in message
    assert "relkit.toml" not in message
