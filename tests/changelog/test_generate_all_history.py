"""``changelog generate --all`` on histories that are not one straight line.

Each commit belongs to the oldest release that ships it. relkit reads the
history in git's default order, split between two git processes at a release
tag in the middle once there are four or more; a history where that order puts
a commit after one of its parents (a committer clock behind on a merged branch)
or where the middle tag is not in HEAD's history is read again with
``--topo-order``. These tests build such histories with real git and check what
lands in each release.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from relkit.changelog.generate import TagInfo
from relkit.changelog.history import wanted
from relkit.changelog.model import parse
from relkit.changelog.rebuild import OutOfOrder, ReleaseWalk
from relkit.cli import app
from relkit.git import log_records
from tests.conftest import GitRepo, git
from tests.relkit_process import run_relkit

runner = CliRunner()
START = 1767225600  # 2026-01-01T00:00:00Z


class History:
    """A repository where every commit has a committer date of our choosing."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self.day = 0

    def commit(self, message: str, *, day: int | None = None) -> str:
        if day is None:
            self.day += 1
            day = self.day
        self.run(day, "commit", "-q", "--allow-empty", "-m", message)
        return git(self.repo, "rev-parse", "HEAD")

    def merge(self, branch: str, message: str) -> str:
        self.day += 1
        self.run(self.day, "merge", "-q", "--no-ff", "-m", message, branch)
        return git(self.repo, "rev-parse", "HEAD")

    def run(self, day: int, *args: str) -> None:
        """git with author and committer dates *day* days after 2026-01-01."""
        date = f"@{START + day * 86400} +0000"
        env = {**os.environ, "GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date}
        subprocess.run(["git", *args], cwd=self.repo, check=True, env=env)

    def tag(self, name: str) -> None:
        git(self.repo, "tag", name)


@pytest.fixture
def history(make_repo: GitRepo) -> History:
    return History(make_repo({"VERSION": "0.0.0\n"}))


def releases() -> dict[str, list[str]]:
    """What ``generate --all --dry-run`` would write, as release label → entry texts."""
    result = runner.invoke(app, ["changelog", "generate", "--all"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    doc = parse(Path("CHANGELOG.md").read_text())
    return {r.label: [e.plain for e in r.entries] for r in doc.releases}


def test_a_merged_branch_goes_to_the_release_that_merged_it(history: History) -> None:
    history.commit("feat: one")
    history.tag("v0.1.0")
    git(history.repo, "switch", "-q", "-c", "side")
    history.commit("feat: on the side")
    git(history.repo, "switch", "-q", "main")
    history.commit("fix: on main")
    history.tag("v0.1.1")
    history.merge("side", "Merge branch 'side'")
    history.commit("fix: after the merge")
    history.tag("v0.2.0")
    history.commit("feat: unreleased")

    assert releases() == {
        "Unreleased": ["unreleased"],
        "0.2.0": ["on the side", "after the merge"],
        "0.1.1": ["on main"],
        "0.1.0": ["one"],
    }


def test_a_split_history_with_merges_reads_like_one_log(history: History) -> None:
    # Six release tags: the history is read by two git processes, split at the
    # middle one; a branch forks below it and merges above it.
    expected: dict[str, list[str]] = {}
    for minor in range(1, 4):
        history.commit(f"feat: feature {minor}")
        history.tag(f"v0.{minor}.0")
        expected[f"0.{minor}.0"] = [f"feature {minor}"]
    git(history.repo, "switch", "-q", "-c", "side", "v0.2.0")
    history.commit("fix: long-lived branch")
    git(history.repo, "switch", "-q", "main")
    for minor in range(4, 7):
        history.commit(f"feat: feature {minor}")
        if minor == 5:
            history.merge("side", "Merge branch 'side'")
        history.tag(f"v0.{minor}.0")
        expected[f"0.{minor}.0"] = [f"feature {minor}"]
    expected["0.5.0"] = ["feature 5", "long-lived branch"]

    assert releases() == {"Unreleased": [], **dict(sorted(expected.items(), reverse=True))}


def test_a_branch_whose_clock_ran_behind_is_read_again_in_topo_order(history: History) -> None:
    base = history.commit("feat: base")
    history.tag("v0.1.0")
    git(history.repo, "switch", "-q", "-c", "skewed")
    history.commit("fix: committed with a clock a year behind", day=-365)
    git(history.repo, "switch", "-q", "main")
    history.commit("feat: main goes on")
    history.merge("skewed", "Merge branch 'skewed'")
    history.tag("v0.2.0")

    # git's default order shows the base (newer) before its child on the branch:
    records = log_records(
        history.repo, ("%H", "%P", "%D", "%B"), options=("--decorate-refs=refs/tags/",)
    )
    tags = {"v0.1.0": TagInfo("0.1.0", "2026-01-02"), "v0.2.0": TagInfo("0.2.0", "2026-01-05")}
    with pytest.raises(OutOfOrder, match=base):
        list(ReleaseWalk(records, tags, lambda label: tuple(map(int, label.split(".")))))

    assert releases() == {
        "Unreleased": [],
        "0.2.0": ["main goes on", "committed with a clock a year behind"],  # Added, Fixed
        "0.1.0": ["base"],
    }


def test_a_detached_head_below_the_middle_tag_lists_only_its_own_releases(
    history: History,
) -> None:
    for minor in range(1, 7):
        history.commit(f"feat: feature {minor}")
        history.tag(f"v0.{minor}.0")
    git(history.repo, "switch", "-q", "--detach", "v0.2.0")

    assert releases() == {"Unreleased": [], "0.2.0": ["feature 2"], "0.1.0": ["feature 1"]}


def test_tags_on_a_branch_that_was_never_merged_are_not_releases_of_head(
    history: History,
) -> None:
    history.commit("feat: shared")
    history.tag("v0.1.0")
    git(history.repo, "switch", "-q", "-c", "abandoned")
    for patch in range(1, 5):
        history.commit(f"fix: abandoned {patch}")
        history.tag(f"v0.1.{patch}")
    git(history.repo, "switch", "-q", "main")
    history.commit("feat: main only")
    history.tag("v0.2.0")

    assert releases() == {"Unreleased": [], "0.2.0": ["main only"], "0.1.0": ["shared"]}


@pytest.mark.parametrize(
    ("argv", "early"),
    [
        (["changelog", "generate", "--all"], True),
        (["changelog", "generate", "--all", "--dry-run", "--json"], True),
        (["changelog", "generate", "--dry-run", "--all"], True),
        (["changelog", "generate"], False),
        (["changelog", "generate", "--all", "--since", "v1"], False),
        (["changelog", "generate", "--all", "--since=v1"], False),
        (["changelog", "generate", "--all", "--help"], False),
        (["changelog", "check", "--all"], False),
        (["generate", "--all"], False),
    ],
)
def test_git_starts_early_only_for_generate_all(argv: list[str], early: bool) -> None:
    assert wanted(argv) is early


def test_the_executable_gives_the_same_changelog_from_the_root_and_from_a_subdirectory(
    history: History,
) -> None:
    # From the project's root the history started by the executable is used;
    # from elsewhere it is dropped and read again for the project's root.
    for minor in range(1, 7):
        history.commit(f"feat: feature {minor}")
        history.tag(f"v0.{minor}.0")
    history.commit("fix: unreleased")
    (history.repo / "sub").mkdir()
    env = dict(os.environ)
    args = ["changelog", "generate", "--all", "--dry-run"]

    from_root = run_relkit(history.repo, args, env, timeout=60)
    from_sub = run_relkit(history.repo / "sub", args, env, timeout=60)

    assert from_root.returncode == 0, from_root.stderr
    assert from_root.stdout.count("\n+## [0.") == 6
    assert (from_sub.returncode, from_sub.stdout) == (0, from_root.stdout)
    assert runner.invoke(app, args).stdout == from_root.stdout
