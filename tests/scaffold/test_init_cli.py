"""``relkit init``: detection, written files, idempotence, --force, --dry-run."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from relkit.config import load_config
from relkit.scaffold.detect import detect, parse_remote
from tests.cli.support import invoke, snapshot
from tests.conftest import GitRepo, git

COMPOSE = """\
services:
  web:
    build: ./web
    image: ghcr.io/acme/shop/web:${VERSION:-dev}
  migrate:
    build: {context: web}
  db:
    image: postgres:16
"""

PYPROJECT = """\
[project]
name = "shop"   # the name
version = "1.2.0"

[tool.ruff]
line-length = 100
"""


@pytest.fixture
def node_repo(make_repo: GitRepo) -> Path:
    repo = make_repo(
        {
            "package.json": '{"name": "shop", "version": "1.0.0"}\n',
            "Dockerfile": "FROM scratch\n",
            "web/Dockerfile": "FROM scratch\n",
            "tests/Dockerfile": "FROM scratch\n",
            "docker-compose.yml": COMPOSE,
            "docker-compose.staging.yml": "services: {}\n",
            "docker-compose.prod.yml": "services: {}\n",
            "docker-compose.override.yml": "services: {}\n",
        }
    )
    git(repo, "remote", "add", "origin", "git@github.com:Acme/Shop.git")
    return repo


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("git@github.com:Acme/Shop.git", ("github.com", "acme/shop")),
        ("https://github.com/acme/shop", ("github.com", "acme/shop")),
        (
            "ssh://git@gitlab.example.com:2222/group/sub/app.git",
            ("gitlab.example.com", "group/sub/app"),
        ),
        ("/srv/git/app.git", None),
    ],
)
def test_parse_remote(url: str, expected: tuple[str, str] | None) -> None:
    assert parse_remote(url) == expected


def test_detect(node_repo: Path) -> None:
    found = detect(node_repo)
    assert (found.language, found.scheme, found.project) == ("node", "semver", "shop")
    assert found.version_files == ("package.json",)
    assert [(i.name, i.context, i.services) for i in found.images] == [
        ("ghcr.io/acme/shop", ".", ()),
        ("ghcr.io/acme/shop/web", "web", ("web", "migrate")),
    ]
    assert [(e.name, e.compose_files, e.migrate, e.approval) for e in found.environments] == [
        ("staging", ("docker-compose.yml", "docker-compose.staging.yml"), "migrate", False),
        ("production", ("docker-compose.yml", "docker-compose.prod.yml"), "migrate", True),
    ]


def test_init_writes_config_changelog_and_workflows(node_repo: Path) -> None:
    result = invoke("init", "--ci", "github")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr == (
        "created relkit.toml\n"
        "created CHANGELOG.md\n"
        "created .github/workflows/ci.yml\n"
        "created .github/workflows/release.yml\n"
        "created .github/workflows/deploy.yml\n"
    )
    config = load_config(node_repo)
    assert config.file == node_repo / "relkit.toml"
    assert [i.name for i in config.images] == ["ghcr.io/acme/shop", "ghcr.io/acme/shop/web"]
    assert config.environments["production"].approval is True
    assert config.environments["staging"].project == "shop-staging"
    assert "npm ci" in (node_repo / ".github/workflows/ci.yml").read_text()
    check = invoke("changelog", "check")
    assert check.exit_code == 0, check.output


def test_rerun_changes_nothing(node_repo: Path) -> None:
    invoke("init", "--ci", "github")
    before = snapshot(node_repo)
    result = invoke("init", "--ci", "github")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == (
        "unchanged relkit.toml\n"
        "unchanged .github/workflows/ci.yml\n"
        "unchanged .github/workflows/release.yml\n"
        "unchanged .github/workflows/deploy.yml\n"
    )
    assert snapshot(node_repo) == before


def test_changed_file_kept_with_diff_then_force(node_repo: Path) -> None:
    invoke("init")
    config = node_repo / "relkit.toml"
    config.write_text(config.read_text().replace("health_timeout = 120", "health_timeout = 300", 1))
    edited = config.read_text()
    result = invoke("init")
    assert result.exit_code == 0
    assert "-health_timeout = 300\n+health_timeout = 120\n" in result.stdout
    assert result.stdout.startswith("--- a/relkit.toml\n+++ b/relkit.toml\n")
    assert result.stderr == (
        "warning: relkit.toml differs from what init writes; kept (diff above, --force"
        " overwrites)\n"
    )
    assert config.read_text() == edited
    forced = invoke("init", "--force")
    assert forced.stderr == "overwrote relkit.toml\n"
    assert "health_timeout = 300" not in config.read_text()


def test_dry_run_writes_nothing(node_repo: Path) -> None:
    before = snapshot(node_repo)
    result = invoke("init", "--ci", "github", "--dry-run")
    assert result.exit_code == 0
    assert snapshot(node_repo) == before
    assert "+++ b/.github/workflows/deploy.yml" in result.stdout
    assert result.stderr.splitlines()[0] == "would create relkit.toml"


def test_pyproject_gets_a_tool_relkit_table(make_repo: GitRepo) -> None:
    repo = make_repo({"pyproject.toml": PYPROJECT})
    result = invoke("init")
    assert result.exit_code == 0, result.output
    assert result.stderr == "added [tool.relkit] to pyproject.toml\ncreated CHANGELOG.md\n"
    text = (repo / "pyproject.toml").read_text()
    assert text.startswith(PYPROJECT)  # the rest of the file is untouched, comments included
    assert not (repo / "relkit.toml").exists()
    data = tomllib.loads(text)
    assert data["tool"]["relkit"]["scheme"] == "pep440"
    assert data["project"]["version"] == "1.2.0"
    assert load_config(repo).file == repo / "pyproject.toml"
    again = invoke("init")
    assert again.stderr == "unchanged pyproject.toml\n"


def test_unknown_ci_provider(node_repo: Path) -> None:
    result = invoke("init", "--ci", "gitlab")
    assert result.exit_code == 2
    assert result.stderr == "error: unknown CI provider 'gitlab' — use --ci github\n"


def test_no_version_file_warns(make_repo: GitRepo) -> None:
    make_repo({"README.md": "hi\n"})
    result = invoke("init")
    assert result.exit_code == 0
    assert result.stderr.startswith("warning: no version file found")
