"""``relkit check`` through the CLI: exit codes and exact output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.cli.support import invoke
from tests.conftest import GitRepo, git

STACK = Path(__file__).resolve().parents[2] / "examples" / "stack"
BAD = Path(__file__).parent / "bad"

CONFIG = """\
[environments.production]
compose_files = ["docker-compose.yml", "docker-compose.prod.yml"]
migrate = "migrate"
pre_deploy = ["backup"]

[[images]]
name = "127.0.0.1:5000/acme/api"
services = ["api", "migrate"]

[[images]]
name = "127.0.0.1:5000/acme/backup"
services = ["backup"]
"""


@pytest.fixture
def stack_repo(make_repo: GitRepo, tmp_path: Path) -> Path:
    files = {
        name: (STACK / name).read_text()
        for name in ("docker-compose.yml", "docker-compose.prod.yml")
    }
    repo = make_repo({**files, "relkit.toml": CONFIG})
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "-u", "origin", "main")
    return repo


def test_example_stack_production_passes(stack_repo: Path) -> None:
    result = invoke("check", "--no-docker")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr == (
        "config: ok (relkit.toml)\n"
        "git: ok (on main, up to date with origin/main (as of the last fetch))\n"
        "docker: skipped (not asked)\n"
        "compose: ok (production: 5 services in docker-compose.yml + docker-compose.prod.yml)\n"
        "check: ok\n"
    )


def test_findings_on_stdout_and_exit_1(stack_repo: Path) -> None:
    shutil.copy(BAD / "docker-compose.yml", stack_repo / "docker-compose.prod.yml")
    (stack_repo / "relkit.toml").write_text(
        '[environments.production]\ncompose_files = ["docker-compose.prod.yml"]\n'
    )
    result = invoke("check", "--no-docker")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "error: git-clean: uncommitted changes: docker-compose.prod.yml, relkit.toml"
    assert (
        "docker-compose.prod.yml:7: error: privileged: service 'web': privileged: true"
        " [production]" in lines
    )
    assert (
        "docker-compose.prod.yml:14: error: docker-socket: service 'web': mounts the Docker"
        " socket (root on the host) [production]" in lines
    )
    assert len(lines) == 18
    assert result.stderr.endswith("check: 14 error(s), 4 warning(s)\n")


def test_json(stack_repo: Path) -> None:
    (stack_repo / "relkit.toml").write_text(
        CONFIG.replace('"docker-compose.prod.yml"', '"gone.yml"')
    )
    git(stack_repo, "commit", "-qam", "chore: break it")
    result = invoke("check", "--no-docker", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["errors"] == 1 and report["warnings"] == 0
    assert [c["status"] for c in report["checks"]] == ["ok", "ok", "skipped", "error"]
    assert report["findings"] == [
        {
            "file": "gone.yml",
            "line": None,
            "severity": "error",
            "rule": "compose-file",
            "message": "does not exist (compose_files of environment 'production')",
            "environments": ["production"],
        }
    ]


def test_strict_fails_on_warnings(stack_repo: Path) -> None:
    git(stack_repo, "branch", "--unset-upstream")
    assert invoke("check", "--no-docker").exit_code == 0
    result = invoke("check", "--no-docker", "--strict")
    assert result.exit_code == 1
    assert result.stdout == (
        "warning: git-upstream: branch 'main' has no upstream: cannot tell whether it is"
        " behind (git branch --set-upstream-to=origin/main)\n"
    )


def test_invalid_config_is_a_finding(stack_repo: Path) -> None:
    (stack_repo / "relkit.toml").write_text('sheme = "semver"\n')
    result = invoke("check", "--no-docker")
    assert result.exit_code == 1
    assert result.stdout.startswith("error: config: ")
    assert "unknown key 'sheme'; did you mean 'scheme'?" in result.stdout


def test_unknown_environment(stack_repo: Path) -> None:
    result = invoke("check", "--no-docker", "--env", "prod")
    assert result.exit_code == 1
    assert result.stderr == ("error: unknown environment 'prod' — known: production\n")


def test_unreachable_engine_is_an_error_finding(
    stack_repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-such.sock")
    result = invoke("check")
    assert result.exit_code == 1
    assert result.stdout.startswith(
        f"error: docker: cannot reach the Docker engine at unix://{tmp_path}/no-such.sock"
    )
    assert "docker: error (local engine)\n" in result.stderr
