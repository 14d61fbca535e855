"""Two rules that make the everyday flow work: the changelog may be uncommitted
before a bump, and a second rollback goes further back, not forward."""

from __future__ import annotations

from typer.testing import CliRunner

from relkit.cli import app
from relkit.deploy import records as rec
from relkit.deploy.records import ReleaseRecord
from tests.conftest import GitRepo, git


def test_changelog_add_then_bump_needs_no_commit_in_between(make_repo: GitRepo) -> None:
    repo = make_repo({"VERSION": "1.0.0\n", "CHANGELOG.md": "# Changelog\n\n## [Unreleased]\n"})
    runner = CliRunner()
    added = runner.invoke(app, ["changelog", "add", "added", "Search"], catch_exceptions=False)
    assert added.exit_code == 0

    bumped = runner.invoke(app, ["bump", "minor"], catch_exceptions=False)

    assert bumped.exit_code == 0, bumped.output
    assert git(repo, "status", "--porcelain") == ""
    shown = git(repo, "show", "HEAD:CHANGELOG.md")
    assert "## [1.1.0] - " in shown and "- Search" in shown


def test_other_uncommitted_changes_still_stop_a_bump(make_repo: GitRepo) -> None:
    repo = make_repo({"VERSION": "1.0.0\n", "CHANGELOG.md": "# Changelog\n", "app.py": "x = 1\n"})
    (repo / "app.py").write_text("x = 2\n")

    result = CliRunner().invoke(app, ["bump", "minor"], catch_exceptions=False)

    assert result.exit_code == 1
    assert "uncommitted changes: app.py" in result.stderr


def _record(
    version: str, minute: int, kind: str = rec.DEPLOY, left: str | None = None
) -> ReleaseRecord:
    return ReleaseRecord(
        id=f"{minute:02d}-{version}",
        environment="production",
        namespace="acme",
        kind=kind,
        version=version,
        images={},
        git_sha=None,
        who="on-call",
        started_at=f"2026-11-25T03:{minute:02d}:00+00:00",
        outcome=rec.SUCCEEDED,
        previous_version=left,
    )


def test_a_second_rollback_goes_further_back() -> None:
    history = [
        _record("1.0.0", 1),
        _record("1.1.0", 2),
        _record("1.2.0", 3),
        _record("1.1.0", 4, kind=rec.ROLLBACK, left="1.2.0"),
    ]
    current = rec.current(history)
    assert current is not None and current.version == "1.1.0"

    goal = rec.previous_good(history, current)

    assert goal is not None and goal.version == "1.0.0"  # not forward to 1.2.0


def test_a_version_deployed_again_after_a_rollback_is_good_again() -> None:
    history = [
        _record("1.0.0", 1),
        _record("1.1.0", 2),
        _record("1.0.0", 3, kind=rec.ROLLBACK, left="1.1.0"),
        _record("1.1.0", 4),  # fixed config, deployed again
        _record("1.2.0", 5),
    ]
    current = rec.current(history)
    assert current is not None

    goal = rec.previous_good(history, current)

    assert goal is not None and (goal.version, goal.id) == ("1.1.0", "04-1.1.0")
