"""``relkit changelog`` and ``relkit bump`` with the changelog, on real git repositories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from relkit.cli import app
from tests.conftest import GitRepo, git

runner = CliRunner()
HEAD = "# Changelog\n\n## [Unreleased]\n"


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout


def commit(repo: Path, message: str) -> str:
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def test_add_creates_section_in_order_and_keeps_bytes(make_repo: GitRepo) -> None:
    text = "# Changelog\r\n\r\n## [Unreleased]\r\n\r\n### Fixed\r\n\r\n- a fix  \r\n"
    repo = make_repo({"CHANGELOG.md": text})
    assert run("changelog", "add", "added", "a [1.0.0] feature") == (0, "")
    assert (repo / "CHANGELOG.md").read_bytes() == (
        b"# Changelog\r\n\r\n## [Unreleased]\r\n\r\n### Added\r\n\r\n- a [1.0.0] feature\r\n"
        b"\r\n### Fixed\r\n\r\n- a fix  \r\n"
    )
    code, _ = run("changelog", "add", "bogus", "x")
    assert code == 2


def test_generate_maps_dedups_and_counts(make_repo: GitRepo) -> None:
    repo = make_repo({"VERSION": "0.1.0\n", "CHANGELOG.md": HEAD})
    git(repo, "tag", "v0.1.0")
    feat = commit(repo, "feat(api): add users")
    fix = commit(repo, "fix: crash")
    brk = commit(repo, "refactor!: new config\n\nBREAKING CHANGE: rename keys")
    sec = commit(repo, "fix(security): escape html")
    dep = commit(repo, "chore: old flag\n\nDeprecated: --old goes in 2.0")
    rev = commit(repo, "revert: remove beta")
    commit(repo, "docs: readme")
    commit(repo, "wip stuff")
    code, out = run("changelog", "generate", "--json")
    assert code == 0
    assert json.loads(out) == {
        "listed": 6,
        "unlisted": 1,
        "not_conventional": 1,
        "already_present": 0,
        "changed": True,
        "dry_run": False,
    }
    expected = HEAD + (
        f"\n### Added\n\n- **api:** add users <!-- relkit:{feat[:12]} -->\n"
        f"\n### Changed\n\n- **BREAKING** new config <!-- relkit:{brk[:12]} -->\n  rename keys\n"
        f"\n### Deprecated\n\n- old flag <!-- relkit:{dep[:12]} -->\n"
        f"\n### Removed\n\n- remove beta <!-- relkit:{rev[:12]} -->\n"
        f"\n### Fixed\n\n- crash <!-- relkit:{fix[:12]} -->\n"
        f"\n### Security\n\n- **security:** escape html <!-- relkit:{sec[:12]} -->\n"
    )
    assert (repo / "CHANGELOG.md").read_text() == expected
    # A second run adds nothing; an entry written by hand with the same text counts too.
    commit(repo, "fix: hand written")
    (repo / "CHANGELOG.md").write_text(expected.replace("- crash", "- hand written\n- crash"))
    code, out = run("changelog", "generate", "--dry-run")
    assert (code, out) == (0, "")
    code, out = run("changelog", "generate", "--since", "HEAD~1", "--dry-run")
    assert (code, out) == (0, "")


def test_generate_all_builds_history_and_protects_written_sections(make_repo: GitRepo) -> None:
    repo = make_repo({"VERSION": "0.2.0\n"})
    git(repo, "remote", "add", "origin", "git@github.com:acme/api.git")
    one = commit(repo, "feat: first")
    git(repo, "tag", "v0.1.0")
    two = commit(repo, "fix: second")
    git(repo, "tag", "v0.2.0")
    three = commit(repo, "feat: third")
    code, _ = run("changelog", "generate", "--all")
    assert code == 0
    text = (repo / "CHANGELOG.md").read_text()
    date = git(repo, "log", "-1", "--format=%cs", "v0.1.0")
    assert text.split("## [Unreleased]\n", 1)[1] == (
        f"\n### Added\n\n- third <!-- relkit:{three[:12]} -->\n"
        f"\n## [0.2.0] - {date}\n\n### Fixed\n\n- second <!-- relkit:{two[:12]} -->\n"
        f"\n## [0.1.0] - {date}\n\n### Added\n\n- first <!-- relkit:{one[:12]} -->\n"
        "\n[Unreleased]: https://github.com/acme/api/compare/v0.2.0...HEAD\n"
        "[0.2.0]: https://github.com/acme/api/compare/v0.1.0...v0.2.0\n"
        "[0.1.0]: https://github.com/acme/api/releases/tag/v0.1.0\n"
    )
    assert run("changelog", "generate", "--all") == (0, "")
    assert (repo / "CHANGELOG.md").read_text() == text
    code, out = run("changelog", "generate", "--all", "--dry-run", "--json")
    assert (code, json.loads(out)) == (
        0,
        {
            "listed": 0,
            "unlisted": 1,  # the repository's first commit, "chore: init"
            "not_conventional": 0,
            "already_present": 3,
            "changed": False,
            "dry_run": True,
        },
    )
    assert run("changelog", "check") == (0, "")
    (repo / "CHANGELOG.md").write_text(text.replace("- second", "- second, by hand\n- second"))
    code, _ = run("changelog", "generate", "--all")
    assert code == 1
    assert run("changelog", "generate", "--all", "--force")[0] == 0
    assert (repo / "CHANGELOG.md").read_text() == text


BAD = """# Changelog

## [Unreleased]

## 1.1.0 (2026-02-30)

### Addded

- x

## [1.2.0] - 2026-01-01

### Fixed

- y

## [1.2.0] - 2026-01-01

### Fixed

- z

[Unreleased]: https://github.com/a/b/compare/v1.2.0...HEAD
[1.2.0]: https://github.com/a/b/compare/v1.0.0...v1.2.0
[old]: https://github.com/a/b
"""


def test_check_reports_each_finding_with_its_line(make_repo: GitRepo) -> None:
    make_repo({"CHANGELOG.md": BAD})
    code, out = run("changelog", "check", "--strict")
    assert code == 1
    assert out == (
        "CHANGELOG.md:3: Unreleased is empty: nothing to release\n"
        "CHANGELOG.md:5: date '2026-02-30' is not an ISO 8601 date (YYYY-MM-DD)\n"
        "CHANGELOG.md:5: heading '## 1.1.0 (2026-02-30)' is not in the canonical form"
        " '## [1.1.0] - 2026-02-30'\n"
        "CHANGELOG.md:7: unknown section 'Addded'; Keep a Changelog uses Added, Changed,"
        " Deprecated, Removed, Fixed, Security\n"
        "CHANGELOG.md:11: 1.2.0 is listed below 1.1.0: releases go newest first\n"
        "CHANGELOG.md:17: version 1.2.0 appears twice (first on line 11)\n"
        "CHANGELOG.md:24: link [1.2.0] compares v1.0.0...v1.2.0; expected v1.1.0...v1.2.0\n"
        "CHANGELOG.md:25: link [old] is not used\n"
    )
    make_repo({"CHANGELOG.md": "# Changelog\n\n## Foo\n"})
    assert run("changelog", "check") == (
        1,
        "CHANGELOG.md:3: cannot read the release heading '## Foo'\n",
    )


NOTES = """# Changelog

## [Unreleased]

## [2.0.0] - 2026-02-01

### Upgrading

Rename `old` to `new` in the config.

### Added

- thing with [link] <!-- relkit:0123456789ab -->
- **BREAKING** dropped v1

[Unreleased]: https://github.com/a/b/compare/v2.0.0...HEAD
[2.0.0]: https://github.com/a/b/compare/v1.0.0...v2.0.0
"""


def test_notes_markdown_json_and_user_template(make_repo: GitRepo) -> None:
    repo = make_repo({"CHANGELOG.md": NOTES, "VERSION": "2.0.0\n"})
    code, out = run("changelog", "notes")
    assert code == 0
    assert out == (
        "## 2.0.0 (2026-02-01)\n\n### Breaking changes\n\n- dropped v1\n\n"
        "### Upgrading\n\nRename `old` to `new` in the config.\n\n"
        "### Added\n\n- thing with [link]\n\n"
        "**Full changelog**: https://github.com/a/b/compare/v1.0.0...v2.0.0\n"
    )
    code, out = run("changelog", "notes", "2.0.0", "--format", "json")
    assert json.loads(out)["sections"] == [{"name": "Added", "entries": ["thing with [link]"]}]
    (repo / "t.j2").write_text("{{ version }}: {{ breaking | length }}\n")
    assert run("changelog", "notes", "--template", "t.j2") == (0, "2.0.0: 1\n")
    (repo / "evil.j2").write_text("{{ ''.__class__.__mro__ }}\n")
    assert run("changelog", "notes", "--template", "evil.j2")[0] == 1
    assert run("changelog", "notes", "9.9.9")[0] == 1


def test_bump_releases_the_changelog_all_or_nothing(make_repo: GitRepo) -> None:
    text = (
        HEAD
        + "\n### Fixed\n\n- a fix\n\n[Unreleased]: https://gitlab.com/a/b/-/compare/v1.0.0...HEAD\n"
    )
    repo = make_repo({"VERSION": "1.0.0\n", "CHANGELOG.md": text})
    git(repo, "tag", "v1.0.0")
    code, out = run("bump", "patch", "--date", "2026-03-04")
    assert (code, out) == (0, "1.0.1\n")
    assert (repo / "CHANGELOG.md").read_text() == (
        "# Changelog\n\n## [Unreleased]\n\n## [1.0.1] - 2026-03-04\n\n### Fixed\n\n- a fix\n\n"
        "[Unreleased]: https://gitlab.com/a/b/-/compare/v1.0.1...HEAD\n"
        "[1.0.1]: https://gitlab.com/a/b/-/compare/v1.0.0...v1.0.1\n"
    )
    assert git(repo, "show", "--stat", "--format=%s", "HEAD").splitlines()[0] == (
        "chore(release): 1.0.1"
    )
    before = (repo / "CHANGELOG.md").read_bytes()
    code, _ = run("bump", "patch")
    assert code == 1  # Unreleased is empty
    assert (repo / "VERSION").read_text() == "1.0.1\n"
    assert (repo / "CHANGELOG.md").read_bytes() == before
    assert run("bump", "patch", "--allow-empty-changelog", "--date", "2026-03-05") == (0, "1.0.2\n")
    assert "## [1.0.2] - 2026-03-05\n" in (repo / "CHANGELOG.md").read_text()
    assert run("bump", "patch", "--date", "2026-13-01")[0] == 2


def test_generate_all_outside_git_and_in_a_repository_without_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "plain"
    outside.mkdir()
    (outside / "VERSION").write_text("0.1.0\n")
    monkeypatch.chdir(outside)
    result = runner.invoke(app, ["changelog", "generate", "--all"])
    assert result.exit_code == 1
    assert "is not a git repository" in result.stderr

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "VERSION").write_text("0.1.0\n")
    git(empty, "init", "-q")
    monkeypatch.chdir(empty)
    assert run("changelog", "generate", "--all", "--dry-run")[0] == 0
