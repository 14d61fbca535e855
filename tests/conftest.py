"""Shared fixtures: isolated git configuration and throw-away repositories."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

pytest_plugins = ["tests.docker_support", "tests.deploy.swarm_stack"]


@pytest.fixture(autouse=True)
def isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test sees its own global git config and none of the machine's."""
    home = tmp_path_factory.mktemp("home")
    config = home / "gitconfig"
    config.write_text(
        "[user]\n\tname = Relkit Test\n\temail = test@relkit.invalid\n"
        "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n[tag]\n\tgpgsign = false\n"
    )
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("HOME", str(home))
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GITHUB_ACTIONS", "GITHUB_OUTPUT", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name in list(__import__("os").environ):
        if name.startswith("RELKIT_") and name != "RELKIT_REQUIRE_DOCKER":
            monkeypatch.delenv(name, raising=False)
    return config


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


GitRepo = Callable[..., Path]


@pytest.fixture
def make_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    """Create a git repository with *files*, commit them, and chdir into it."""

    def make(files: dict[str, str | bytes] | None = None, message: str = "chore: init") -> Path:
        repo = tmp_path / "repo"
        repo.mkdir(exist_ok=True)
        git(repo, "init", "-q", "-b", "main")
        for name, content in (files or {}).items():
            path = repo / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_bytes(content.encode())
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "--allow-empty", "-m", message)
        monkeypatch.chdir(repo)
        return repo

    return make
