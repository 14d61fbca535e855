"""A release killed between its release commit and the journal's note of it resumes.

No Docker: a project without images or environments releases bump → tag → notes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from relkit.cli import app
from relkit.release import journal as jr
from tests.conftest import GitRepo, git


def _journal(repo: Path) -> dict[str, object]:
    common = git(repo, "rev-parse", "--git-common-dir")
    return json.loads((repo / common / "relkit" / "release.json").read_text())


def test_a_kill_right_after_the_release_commit_is_resumed(
    make_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(
        {
            "VERSION": "1.0.0\n",
            "CHANGELOG.md": "# Changelog\n\n## [Unreleased]\n\n### Added\n\n- A thing.\n",
        }
    )
    real_save = jr.save

    def save(config: object, journal: jr.Journal) -> None:
        # The window between `git commit` and the journal write cannot be hit by a real
        # SIGKILL reliably; this stands in for it: the first save after the bump dies.
        if journal.release_commit is not None:
            raise KeyboardInterrupt
        real_save(config, journal)  # type: ignore[arg-type]

    monkeypatch.setattr(jr, "save", save)
    killed = CliRunner().invoke(app, ["release", "minor", "--no-push"], catch_exceptions=False)
    assert killed.exit_code == 130
    assert git(repo, "log", "-1", "--format=%s") == "chore(release): 1.1.0"
    assert _journal(repo)["release_commit"] is None  # the journal never heard of it

    monkeypatch.setattr(jr, "save", real_save)
    resumed = CliRunner().invoke(app, ["release", "--resume", "--no-push"], catch_exceptions=False)

    assert resumed.exit_code == 0, resumed.output
    assert resumed.stdout == "1.1.0\n"
    assert git(repo, "log", "--format=%s").splitlines() == ["chore(release): 1.1.0", "chore: init"]
    assert git(repo, "tag", "--list") == "v1.1.0"
    state = _journal(repo)
    assert state["finished"] is True
    assert state["release_commit"] == git(repo, "rev-parse", "HEAD")
