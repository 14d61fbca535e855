"""``relkit bump`` in real git repositories: files, commit, tag, preconditions, all or nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.cli.support import commit, git, invoke, snapshot
from tests.conftest import GitRepo

# Templates: @V@ marks the version; every other 1.3.2 must survive a bump.
TEMPLATES = {
    "pyproject.toml": (
        "[project]\n"
        'name = "app"\n'
        'version = "@V@"  # bumped by relkit\n'
        'dependencies = ["lib==1.3.2"]\n'
        "\n"
        "[tool.relkit]\n"
        'release_branches = ["main"]\n'
        "\n"
        "[[tool.relkit.version_files]]\n"
        'path = "src/app/version.ts"\n'
        "pattern = 'export const VERSION = \"{version}\";'\n"
    ),
    "package.json": (
        '{\n  "name": "app",\n  "version": "@V@",\n  "dependencies": {"lib": "1.3.2"}\n}\n'
    ),
    "package-lock.json": (
        '{\n  "name": "app",\n  "version": "@V@",\n  "lockfileVersion": 3,\n  "packages": {\n'
        '    "": {\n      "name": "app",\n      "version": "@V@"\n    },\n'
        '    "node_modules/lib": {\n      "version": "1.3.2"\n    }\n  }\n}\n'
    ),
    "VERSION": "@V@\r\n",
    "src/app/version.ts": '// 1.3.2\nexport const VERSION = "@V@";\n',
}
VERSION_FILES = list(TEMPLATES)
OTHER_FILES = {"README.md": "# app\n", "other.txt": "other\n"}


def files_at(version: str) -> dict[str, bytes]:
    return {name: text.replace("@V@", version).encode() for name, text in TEMPLATES.items()}


def tree_at(version: str) -> dict[str, bytes]:
    return {**{n: t.encode() for n, t in OTHER_FILES.items()}, **files_at(version)}


@pytest.fixture
def repo(make_repo: GitRepo) -> Path:
    files: dict[str, str | bytes] = {**OTHER_FILES, **files_at("1.3.2")}
    return make_repo(files)


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD")


def committed_files(repo: Path, ref: str = "HEAD") -> list[str]:
    return sorted(git(repo, "show", "--name-only", "--format=", ref).splitlines())


def test_bump_minor_updates_every_file_and_commits_them(repo: Path) -> None:
    before = head(repo)
    result = invoke("bump", "minor")
    assert result.exit_code == 0, result.output
    assert result.stdout == "1.4.0\n"
    assert snapshot(repo) == tree_at("1.4.0")
    assert git(repo, "log", "-1", "--format=%B") == "chore(release): 1.4.0"
    assert git(repo, "rev-parse", "HEAD~1") == before
    assert committed_files(repo) == sorted(VERSION_FILES)
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "tag", "--list") == ""
    assert "bumped 1.3.2 → 1.4.0 in pyproject.toml, package.json" in result.stderr
    assert "committed " in result.stderr


def test_commit_holds_only_relkits_files(repo: Path) -> None:
    (repo / "README.md").write_text("# app, edited but not staged\n")
    (repo / "other.txt").write_text("staged, not relkit's\n")
    git(repo, "add", "other.txt")
    result = invoke("bump", "minor", "--allow-dirty")
    assert result.exit_code == 0, result.output
    assert committed_files(repo) == sorted(VERSION_FILES)
    assert git(repo, "status", "--porcelain").splitlines() == [" M README.md", "M  other.txt"]
    assert (repo / "README.md").read_text() == "# app, edited but not staged\n"
    assert git(repo, "show", "HEAD:README.md") == "# app"
    assert git(repo, "show", "HEAD:other.txt") == "other"


def test_commit_message_comes_from_the_config(make_repo: GitRepo) -> None:
    repo = make_repo(
        {"VERSION": "1.3.2\n", "relkit.toml": 'commit_message = "release: v{version} [skip ci]"\n'}
    )
    assert invoke("bump", "patch").exit_code == 0
    assert git(repo, "log", "-1", "--format=%B") == "release: v1.3.3 [skip ci]"


def test_no_commit_writes_the_files_only(repo: Path) -> None:
    before = head(repo)
    result = invoke("bump", "major", "--no-commit")
    assert (result.exit_code, result.stdout) == (0, "2.0.0\n")
    assert snapshot(repo) == tree_at("2.0.0")
    assert head(repo) == before
    assert sorted(line[3:] for line in git(repo, "status", "--porcelain").splitlines()) == sorted(
        VERSION_FILES
    )


def test_tag_creates_an_annotated_tag_on_the_release_commit(repo: Path) -> None:
    result = invoke("bump", "minor", "--tag")
    assert result.exit_code == 0, result.output
    assert git(repo, "cat-file", "-t", "v1.4.0") == "tag"
    assert git(repo, "rev-parse", "v1.4.0^{commit}") == head(repo)
    assert git(repo, "tag", "--list") == "v1.4.0"
    assert "tagged v1.4.0" in result.stderr


def test_tag_format_from_the_config(make_repo: GitRepo) -> None:
    repo = make_repo({"VERSION": "0.1.0\n", "relkit.toml": 'tag_format = "app-{version}"\n'})
    assert invoke("bump", "patch", "--tag").exit_code == 0
    assert git(repo, "tag", "--list") == "app-0.1.1"


def test_dry_run_changes_nothing_and_prints_the_diff(repo: Path) -> None:
    before_files, before_head = snapshot(repo), head(repo)
    result = invoke("bump", "minor", "--tag", "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout == "1.4.0\n"
    assert snapshot(repo) == before_files
    assert head(repo) == before_head
    assert git(repo, "tag", "--list") == ""
    assert git(repo, "status", "--porcelain") == ""
    diff = result.stderr
    assert "--- a/pyproject.toml\n+++ b/pyproject.toml\n" in diff
    assert (
        '-version = "1.3.2"  # bumped by relkit\n+version = "1.4.0"  # bumped by relkit\n' in diff
    )
    assert '-export const VERSION = "1.3.2";\n+export const VERSION = "1.4.0";\n' in diff
    assert "--- a/VERSION\n+++ b/VERSION\n" in diff
    assert "-lib==1.3.2" not in diff
    assert "would bump 1.3.2 → 1.4.0\n" in diff
    assert "would commit: chore(release): 1.4.0\n" in diff
    assert "would tag: v1.4.0\n" in diff


def test_dry_run_json(repo: Path) -> None:
    before = snapshot(repo)
    result = invoke("bump", "minor", "--pre", "rc", "--no-commit", "--dry-run", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "previous": "1.3.2",
        "version": "1.4.0-rc.1",
        "files": VERSION_FILES,
        "commit": None,
        "tag": None,
        "dry_run": True,
    }
    assert snapshot(repo) == before


def test_json_result(repo: Path) -> None:
    result = invoke("bump", "minor", "--tag", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "previous": "1.3.2",
        "version": "1.4.0",
        "files": VERSION_FILES,
        "commit": "chore(release): 1.4.0",
        "tag": "v1.4.0",
        "sha": head(repo),
    }


def test_to_sets_an_exact_version(repo: Path) -> None:
    result = invoke("bump", "--to", "2.0.0-beta.1")
    assert (result.exit_code, result.stdout) == (0, "2.0.0-beta.1\n")
    assert snapshot(repo) == tree_at("2.0.0-beta.1")


def test_pre_and_release_through_the_cli(repo: Path) -> None:
    assert invoke("bump", "minor", "--pre", "alpha").stdout == "1.4.0-alpha.1\n"
    assert invoke("bump", "pre").stdout == "1.4.0-alpha.2\n"
    assert invoke("bump", "pre", "--pre", "rc").stdout == "1.4.0-rc.1\n"
    assert invoke("bump", "release").stdout == "1.4.0\n"
    assert snapshot(repo) == tree_at("1.4.0")
    assert git(repo, "log", "--format=%s", "-4").splitlines() == [
        "chore(release): 1.4.0",
        "chore(release): 1.4.0-rc.1",
        "chore(release): 1.4.0-alpha.2",
        "chore(release): 1.4.0-alpha.1",
    ]


def test_pep440_scheme_renders_pep440(make_repo: GitRepo) -> None:
    repo = make_repo(
        {"pyproject.toml": '[project]\nversion = "1.3.2"\n\n[tool.relkit]\nscheme = "pep440"\n'}
    )
    result = invoke("bump", "minor", "--pre", "rc", "--tag")
    assert (result.exit_code, result.stdout) == (0, "1.4.0rc1\n")
    assert (repo / "pyproject.toml").read_text() == (
        '[project]\nversion = "1.4.0rc1"\n\n[tool.relkit]\nscheme = "pep440"\n'
    )
    assert git(repo, "tag", "--list") == "v1.4.0rc1"


def test_github_actions_outputs(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    assert invoke("bump", "patch", "--tag").exit_code == 0
    assert output.read_text() == "version=1.3.3\ntag=v1.3.3\n"


# --- preconditions ------------------------------------------------------------------------


def _refused(repo: Path, *args: str) -> str:
    """Run a bump that must fail with exit 1 and change nothing; return its stderr."""
    before_files, before_head = snapshot(repo), head(repo)
    before_tags = git(repo, "tag", "--list")
    result = invoke("bump", *args)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert snapshot(repo) == before_files
    assert head(repo) == before_head
    assert git(repo, "tag", "--list") == before_tags
    return result.stderr


def test_dirty_tree_is_refused(repo: Path) -> None:
    (repo / "README.md").write_text("changed\n")
    stderr = _refused(repo, "minor")
    assert stderr == (
        "error: the working tree has uncommitted changes: README.md"
        " — commit or stash them, or pass --allow-dirty\n"
    )


def test_untracked_files_do_not_make_the_tree_dirty(repo: Path) -> None:
    (repo / "notes.txt").write_text("scratch\n")
    assert invoke("bump", "patch").exit_code == 0
    assert git(repo, "status", "--porcelain") == "?? notes.txt"


def test_branch_outside_release_branches_is_refused(repo: Path) -> None:
    git(repo, "switch", "-q", "-c", "feature/x")
    stderr = _refused(repo, "minor")
    assert "branch 'feature/x' is not a release branch (main)" in stderr
    assert "switch to a release branch, or set release_branches" in stderr


def test_detached_head_is_refused(repo: Path) -> None:
    git(repo, "switch", "-q", "--detach")
    assert "HEAD is detached is not a release branch" in _refused(repo, "minor")


def test_release_branches_from_the_environment(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    git(repo, "switch", "-q", "-c", "release/1.x")
    monkeypatch.setenv("RELKIT_RELEASE_BRANCHES", "main,release/1.x")
    assert invoke("bump", "patch").exit_code == 0


def test_existing_tag_is_refused(repo: Path) -> None:
    git(repo, "tag", "v1.4.0", "HEAD")
    stderr = _refused(repo, "minor")
    assert stderr == "error: tag v1.4.0 already exists — choose another version with --to\n"


def test_version_not_above_the_latest_tag_is_refused(repo: Path) -> None:
    git(repo, "switch", "-q", "-c", "old")
    commit(repo, "chore: elsewhere")
    git(repo, "tag", "-a", "v2.0.0", "-m", "v2.0.0")
    git(repo, "switch", "-q", "main")
    stderr = _refused(repo, "minor")
    assert stderr == (
        "error: 1.4.0 is not greater than the latest tag v2.0.0"
        " — choose a version above 2.0.0 with --to\n"
    )


def test_tags_of_another_format_are_ignored(repo: Path) -> None:
    git(repo, "tag", "v9.9.9.9")
    git(repo, "tag", "nightly")
    assert invoke("bump", "minor").exit_code == 0


@pytest.mark.parametrize("target", ["1.3.2", "1.3.1", "1.3.2+build.5", "1.3.2-rc.1"])
def test_to_not_greater_is_refused(repo: Path, target: str) -> None:
    stderr = _refused(repo, "--to", target)
    assert stderr == (
        f"error: {target} is not greater than the current version 1.3.2"
        " — --to takes a version above the current one\n"
    )


def test_to_invalid_version_is_refused(repo: Path) -> None:
    assert "invalid version '1.4': expected MAJOR.MINOR.PATCH" in _refused(repo, "--to", "1.4")


def test_pre_on_a_final_release_is_refused_with_what_to_type(repo: Path) -> None:
    assert "start one with 'relkit bump patch --pre rc' (→ 1.3.3-rc.1)" in _refused(repo, "pre")


def test_going_back_from_rc_to_alpha_is_refused(repo: Path) -> None:
    assert invoke("bump", "--to", "1.4.0-rc.1").exit_code == 0
    assert "cannot go back from rc to alpha" in _refused(repo, "pre", "--pre", "alpha")


def test_disagreeing_files_are_refused(repo: Path) -> None:
    (repo / "VERSION").write_text("1.3.3\n")
    git(repo, "commit", "-qam", "chore: drift")
    stderr = _refused(repo, "minor")
    assert "the version files disagree:" in stderr
    assert "VERSION says 1.3.3" in stderr
    assert "pyproject.toml says 1.3.2" in stderr


# --- auto ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        (["fix: a", "docs: b"], "1.3.3"),
        (["perf(db): faster"], "1.3.3"),
        (["fix: a", "feat(api): b"], "1.4.0"),
        (["feat: b", "refactor!: c"], "2.0.0"),
        (["fix: a\n\nBREAKING CHANGE: the config moved"], "2.0.0"),
    ],
)
def test_auto_from_conventional_commits_since_the_last_tag(
    repo: Path, messages: list[str], expected: str
) -> None:
    commit(repo, "feat!: released before the tag")
    git(repo, "tag", "-a", "v1.3.2", "-m", "v1.3.2")
    for message in messages:
        commit(repo, message)
    result = invoke("bump", "auto", "--tag")
    assert (result.exit_code, result.stdout) == (0, f"{expected}\n")
    assert snapshot(repo) == tree_at(expected)
    assert git(repo, "tag", "--list").splitlines() == ["v1.3.2", f"v{expected}"]


def test_auto_on_0x_a_breaking_change_bumps_minor(make_repo: GitRepo) -> None:
    repo = make_repo({"VERSION": "0.4.1\n"}, message="feat!: everything changed")
    assert invoke("bump", "auto").stdout == "0.5.0\n"
    assert (repo / "VERSION").read_text() == "0.5.0\n"


def test_auto_with_nothing_releasable_exits_1(repo: Path) -> None:
    git(repo, "tag", "v1.3.2")
    commit(repo, "docs: readme")
    commit(repo, "chore(ci): cache")
    commit(repo, "Merge branch 'x'")
    stderr = _refused(repo, "auto")
    assert stderr == (
        "error: nothing to release since v1.3.2: 2 conventional commit(s) with no feat, fix,"
        " perf or breaking change, 1 not conventional — commit a feat/fix, or choose the part"
        " yourself (relkit bump patch)\n"
    )


# --- usage errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["minior"],
            "error: unknown part 'minior' — use major, minor, patch, pre, release, auto or --to\n",
        ),
        (
            ["minor", "--to", "2.0.0"],
            "error: give either PART or --to VERSION — see 'relkit bump --help'\n",
        ),
        ([], "error: give either PART or --to VERSION — see 'relkit bump --help'\n"),
        (
            ["minor", "--pre", "gamma"],
            "error: unknown pre-release label 'gamma' — use one of alpha, beta, rc\n",
        ),
    ],
)
def test_usage_errors_exit_2(repo: Path, args: list[str], message: str) -> None:
    before = snapshot(repo), head(repo)
    result = invoke("bump", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == message
    assert (snapshot(repo), head(repo)) == before


def test_unknown_option_is_a_usage_error(repo: Path) -> None:
    result = invoke("bump", "minor", "--frobnicate")
    assert result.exit_code == 2
    assert "No such option: --frobnicate" in result.stderr


def test_help_documents_every_rule() -> None:
    result = invoke("bump", "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    for rule in [
        "major 1.3.2 → 2.0.0",
        "minor 1.3.2 → 1.4.0 1.4.0-rc.2 → 1.4.0 1.4.1-rc.1 → 1.5.0",
        "patch 1.3.2 → 1.3.3 1.4.0-rc.2 → 1.4.0",
        "pre 1.4.0-rc.1 → 1.4.0-rc.2; with --pre beta: 1.4.0-alpha.3 → 1.4.0-beta.1",
        "alpha → beta → rc",
        "release 1.4.0-rc.2 → 1.4.0",
        "on 0.x a breaking change bumps minor",
        "--to X any version greater than the current one",
        "'minor --pre rc' on 1.3.2 gives 1.4.0-rc.1",
        "1.4.0rc1",
        "--allow-dirty",
        "--dry-run",
    ]:
        assert rule in text, rule


# --- all or nothing -----------------------------------------------------------------------


@pytest.mark.parametrize("failing_write", [1, 3, len(VERSION_FILES)])
def test_a_failed_write_restores_every_file(
    repo: Path, monkeypatch: pytest.MonkeyPatch, failing_write: int
) -> None:
    # A mock, because this failure cannot be provoked for real here: the tests run as
    # root, so a read-only file or directory does not stop the write. The Nth rename of
    # a temp file onto a version file fails; earlier files are already written by then.
    real_replace = os.replace
    calls: list[str] = []

    def replace(src: str, dst: str) -> None:
        calls.append(str(dst))
        if len(calls) == failing_write:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr("relkit.files.os.replace", replace)
    before_files, before_head = snapshot(repo), head(repo)
    result = invoke("bump", "minor", "--tag")
    assert result.exit_code == 1
    failed = VERSION_FILES[failing_write - 1]
    assert result.stderr == (
        f"error: could not write {failed}: No space left on device"
        " — nothing was changed; fix the cause and run again\n"
    )
    assert [Path(p).name for p in calls[:failing_write]] == [
        Path(n).name for n in VERSION_FILES[:failing_write]
    ]
    assert len(calls) == 2 * failing_write - 1  # the written files were written back
    assert snapshot(repo) == before_files  # byte for byte, temp files gone too
    assert head(repo) == before_head
    assert git(repo, "tag", "--list") == ""
    assert git(repo, "status", "--porcelain") == ""


def test_a_failed_commit_restores_every_file(repo: Path) -> None:
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'pre-commit: lint failed' >&2\nexit 1\n")
    hook.chmod(0o755)
    before_files, before_head = snapshot(repo), head(repo)
    result = invoke("bump", "minor", "--tag")
    assert result.exit_code == 1
    assert "pre-commit: lint failed" in result.stderr
    assert snapshot(repo) == before_files
    assert head(repo) == before_head
    assert git(repo, "tag", "--list") == ""
    # Nothing left staged either: the next bump starts from a clean tree.
    assert git(repo, "status", "--porcelain") == ""
    hook.unlink()
    assert invoke("bump", "minor").exit_code == 0
    assert snapshot(repo) == tree_at("1.4.0")
