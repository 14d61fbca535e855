"""``relkit version``: the current version, its sources, and what a bump would give."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.support import commit, git, invoke
from tests.conftest import GitRepo

FILES = {
    "pyproject.toml": '[project]\nname = "app"\nversion = "1.3.2"\n',
    "package.json": '{\n  "name": "app",\n  "version": "1.3.2"\n}\n',
    "VERSION": "1.3.2\n",
}


@pytest.fixture
def repo(make_repo: GitRepo) -> Path:
    return make_repo(FILES)


def test_prints_just_the_version(repo: Path) -> None:
    result = invoke("version")
    assert result.exit_code == 0
    assert result.stdout == "1.3.2\n"
    assert result.stderr == ""


def test_works_from_a_subdirectory(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "src" / "app").mkdir(parents=True)
    monkeypatch.chdir(repo / "src" / "app")
    result = invoke("version")
    assert (result.exit_code, result.stdout) == (0, "1.3.2\n")


def test_json_reports_sources_last_tag_commits_since_and_next_versions(repo: Path) -> None:
    git(repo, "tag", "-a", "v1.3.2", "-m", "v1.3.2")
    commit(repo, "fix: a bug")
    commit(repo, "feat(api): a feature")
    commit(repo, "docs: words")
    result = invoke("version", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "version": "1.3.2",
        "scheme": "semver",
        "sources": [
            {"file": "pyproject.toml", "version": "1.3.2"},
            {"file": "package.json", "version": "1.3.2"},
            {"file": "VERSION", "version": "1.3.2"},
        ],
        "last_tag": "v1.3.2",
        "commits_since": 3,
        "next": {
            "major": "2.0.0",
            "minor": "1.4.0",
            "patch": "1.3.3",
            "pre": None,
            "release": None,
            "auto": "1.4.0",
        },
    }


def test_json_without_tags_counts_the_whole_history(repo: Path) -> None:
    commit(repo, "chore: nothing to release")
    report = json.loads(invoke("version", "--json").stdout)
    assert report["last_tag"] is None
    assert report["commits_since"] == 2
    assert report["next"]["auto"] is None


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--next", "major"], "2.0.0"),
        (["--next", "minor"], "1.4.0"),
        (["--next", "patch"], "1.3.3"),
        (["--next", "minor", "--pre", "rc"], "1.4.0-rc.1"),
        (["--next", "major", "--pre", "alpha"], "2.0.0-alpha.1"),
    ],
)
def test_next_prints_what_bump_would_give(repo: Path, args: list[str], expected: str) -> None:
    result = invoke("version", *args)
    assert result.exit_code == 0
    assert result.stdout == f"{expected}\n"
    assert (repo / "VERSION").read_text() == "1.3.2\n"


def test_next_auto_reads_commits_since_the_last_tag(repo: Path) -> None:
    commit(repo, "feat!: before the tag, already released")
    git(repo, "tag", "v1.3.2")
    commit(repo, "fix: after the tag")
    result = invoke("version", "--next", "auto")
    assert (result.exit_code, result.stdout) == (0, "1.3.3\n")


def test_next_with_pep440_scheme(make_repo: GitRepo) -> None:
    make_repo(
        {"pyproject.toml": '[project]\nversion = "1.3.2"\n\n[tool.relkit]\nscheme = "pep440"\n'}
    )
    result = invoke("version", "--next", "minor", "--pre", "rc")
    assert (result.exit_code, result.stdout) == (0, "1.4.0rc1\n")


def test_next_pre_on_a_final_release_says_what_to_type(repo: Path) -> None:
    result = invoke("version", "--next", "pre")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "error: 1.3.2 is a final release, so it has no pre-release to bump — start one with"
        " 'relkit bump patch --pre rc' (→ 1.3.3-rc.1), or minor/major with --pre\n"
    )


def test_disagreeing_files_list_each_file_and_value(make_repo: GitRepo) -> None:
    make_repo({**FILES, "package.json": '{"version": "1.3.3"}'})
    result = invoke("version")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(
        "error: the version files disagree: pyproject.toml says 1.3.2;"
        " package.json says 1.3.3; VERSION says 1.3.2 — "
    )


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"README.md": "hi\n"}, "error: no version file found in "),
        (
            {"VERSION": "v1.3.2\n"},
            "error: VERSION: invalid version 'v1.3.2': a SemVer version has no 'v' prefix",
        ),
        (
            {"VERSION": "1.3.2\n", "relkit.toml": "sheme = 'semver'\n"},
            "unknown key 'sheme'; did you mean 'scheme'?",
        ),
    ],
)
def test_errors_exit_1_with_a_message(
    make_repo: GitRepo, files: dict[str, str], message: str
) -> None:
    make_repo(files)
    result = invoke("version")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert message in result.stderr
    assert "Traceback" not in result.output
