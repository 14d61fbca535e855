"""Git preflight in real repositories: clean tree, release branch, behind a real bare remote."""

from __future__ import annotations

from pathlib import Path

from relkit.check.findings import ERROR, WARNING
from relkit.check.preflight import check_git
from tests.conftest import GitRepo, git


def rules(root: Path, branches: tuple[str, ...] = ("main",)) -> list[tuple[str, str]]:
    findings, _ = check_git(root, branches)
    return [(f.severity, f.rule) for f in findings]


def with_remote(repo: Path, tmp_path: Path) -> Path:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "-u", "origin", "main")
    return remote


def test_clean_release_branch_up_to_date(make_repo: GitRepo, tmp_path: Path) -> None:
    repo = make_repo({"a.txt": "a\n"})
    with_remote(repo, tmp_path)
    findings, detail = check_git(repo, ("main",))
    assert findings == []
    assert detail == "on main, up to date with origin/main (as of the last fetch)"


def test_dirty_tree(make_repo: GitRepo) -> None:
    repo = make_repo({"a.txt": "a\n"})
    (repo / "a.txt").write_text("changed\n")
    (repo / "untracked.txt").write_text("not counted\n")
    findings, _ = check_git(repo, ("main",))
    assert [(f.rule, f.message) for f in findings if f.severity == ERROR] == [
        ("git-clean", "uncommitted changes: a.txt")
    ]


def test_wrong_branch_and_patterns(make_repo: GitRepo) -> None:
    repo = make_repo()
    git(repo, "switch", "-q", "-c", "feature/x")
    assert (ERROR, "git-branch") in rules(repo)
    assert (ERROR, "git-branch") not in rules(repo, ("main", "feature/*"))


def test_detached_head(make_repo: GitRepo) -> None:
    repo = make_repo()
    git(repo, "checkout", "-q", "--detach")
    assert rules(repo) == [(ERROR, "git-branch")]


def test_no_upstream_is_a_warning(make_repo: GitRepo) -> None:
    repo = make_repo()
    assert rules(repo) == [(WARNING, "git-upstream")]


def test_behind_upstream_after_fetch_only(make_repo: GitRepo, tmp_path: Path) -> None:
    repo = make_repo({"a.txt": "a\n"})
    remote = with_remote(repo, tmp_path)
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    (other / "b.txt").write_text("b\n")
    git(other, "add", "b.txt")
    git(other, "commit", "-q", "-m", "feat: b")
    git(other, "push", "-q", "origin", "main")
    # Not fetched yet: relkit does not fetch, so it cannot know.
    assert rules(repo) == []
    git(repo, "fetch", "-q")
    findings, _ = check_git(repo, ("main",))
    assert [(f.rule, f.message) for f in findings] == [
        (
            "git-behind",
            "1 commit(s) behind origin/main as of the last fetch (relkit check does not"
            " fetch); pull first",
        )
    ]


def test_ahead_is_fine(make_repo: GitRepo, tmp_path: Path) -> None:
    repo = make_repo()
    with_remote(repo, tmp_path)
    git(repo, "commit", "-q", "--allow-empty", "-m", "chore: local")
    findings, detail = check_git(repo, ("main",))
    assert findings == [] and detail.startswith("on main, 1 ahead of origin/main")


def test_not_a_repository(tmp_path: Path) -> None:
    assert rules(tmp_path) == [(ERROR, "git-repo")]
