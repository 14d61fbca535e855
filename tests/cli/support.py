"""Helpers for CLI tests: invoke relkit in-process, read git state, snapshot files."""

from __future__ import annotations

import subprocess
from pathlib import Path

from typer.testing import CliRunner, Result

from relkit.cli import app


def invoke(*args: str) -> Result:
    """Run ``relkit ARGS`` in the current directory; exceptions propagate."""
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.rstrip("\n")


def commit(repo: Path, message: str, files: dict[str, str] | None = None) -> str:
    """Commit *files* (name: content; an empty commit without) and return the sha."""
    for name, content in (files or {}).items():
        (repo / name).write_text(content, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def snapshot(repo: Path) -> dict[str, bytes]:
    """Every file of the working tree (outside .git) and its bytes."""
    return {
        str(path.relative_to(repo)): path.read_bytes()
        for path in sorted(repo.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(repo).parts
    }
