"""The last release tag and the commits since it, read by one ``git log`` that stops at the tag.

Every scenario is checked against the plain method (``git tag --merged`` for the
newest reachable release tag, then ``TAG..HEAD``), which is what relkit did
before and still does whenever the scan cannot be sure.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from relkit import bump_plan
from relkit.config import load_config
from relkit.conventional import next_part
from relkit.errors import VersionError
from relkit.version import parse
from tests.cli.support import commit, git
from tests.conftest import GitRepo

FILES = {"pyproject.toml": '[project]\nname = "app"\nversion = "1.3.2"\n'}


def tag(repo: Path, name: str, ref: str = "HEAD", annotated: bool = True) -> None:
    if annotated:
        git(repo, "tag", "-a", name, "-m", name, ref)
    else:
        git(repo, "tag", name, ref)


def plain(repo: Path) -> tuple[str | None, tuple[str | None, int, int]]:
    """The old answer: the newest merged release tag, and what TAG..HEAD asks for."""
    config = load_config(repo)
    since = bump_plan._last_merged_tag(config)
    messages = [c.message for c in bump_plan.commits_since(config, since)]
    return since, next_part(messages)


def scanned(repo: Path) -> tuple[str | None, tuple[str | None, int, int], bool]:
    config = load_config(repo)
    scan = bump_plan._TagScan(config)
    part = next_part(scan.messages())
    return bump_plan.last_tag(config), part, scan.exact


def auto(repo: Path) -> str:
    config = load_config(repo)
    try:
        return str(bump_plan.next_version(config, parse("1.3.2"), "auto", None))
    except VersionError as exc:
        return exc.message


def expected_auto(repo: Path) -> str:
    since, (found, conventional, skipped) = plain(repo)
    if found is None:
        where = f"since {since}" if since else "in the history"
        return (
            f"nothing to release {where}: {conventional} conventional commit(s) with no"
            f" feat, fix, perf or breaking change, {skipped} not conventional"
        )
    from relkit.version.bump import bump

    return str(bump(parse("1.3.2"), found, None))


def check(repo: Path, *, exact: bool | None = None) -> None:
    since, part = plain(repo)
    got_tag, got_part, got_exact = scanned(repo)
    assert got_tag == since
    if got_exact:
        assert got_part == part
    if exact is not None:
        assert got_exact is exact
    assert auto(repo) == expected_auto(repo)


@pytest.fixture
def repo(make_repo: GitRepo) -> Path:
    return make_repo(FILES)


def test_linear_history_is_read_once(repo: Path) -> None:
    commit(repo, "feat: old")
    tag(repo, "v1.3.1")
    commit(repo, "fix: a")
    tag(repo, "v1.3.2", annotated=False)
    commit(repo, "fix: b")
    commit(repo, "WIP")
    commit(repo, "feat(api): c")
    check(repo, exact=True)
    assert scanned(repo)[:2] == ("v1.3.2", ("minor", 2, 1))


def test_tag_on_head_itself(repo: Path) -> None:
    commit(repo, "feat: x")
    tag(repo, "v1.3.2")
    check(repo, exact=True)
    assert scanned(repo)[:2] == ("v1.3.2", (None, 0, 0))
    assert auto(repo).startswith("nothing to release since v1.3.2: 0 conventional")


def test_no_tags_at_all(repo: Path) -> None:
    commit(repo, "fix: a")
    check(repo)
    assert scanned(repo)[0] is None


def test_tags_of_other_formats_are_ignored(repo: Path) -> None:
    tag(repo, "v1.3.2")
    commit(repo, "fix: a")
    tag(repo, "api-v9.0.0")  # another prefix
    commit(repo, "feat: b")
    tag(repo, "vnext")  # the prefix, but no version
    tag(repo, "v1.x")
    commit(repo, "docs: c")
    tag(repo, "9.9.9", annotated=False)
    check(repo, exact=True)
    assert scanned(repo)[:2] == ("v1.3.2", ("minor", 3, 0))


def test_several_tags_on_one_commit_take_the_newest(repo: Path) -> None:
    tag(repo, "v1.3.1")
    tag(repo, "v1.3.2", annotated=False)
    tag(repo, "v1.3.2-rc.1")
    commit(repo, "fix: a")
    check(repo, exact=True)
    assert scanned(repo)[0] == "v1.3.2"


def test_head_below_a_newer_tag_asks_git_tag_merged(repo: Path) -> None:
    commit(repo, "fix: a")
    tag(repo, "v1.3.1")
    commit(repo, "feat: b")
    old = git(repo, "rev-parse", "HEAD")
    commit(repo, "feat!: c")
    tag(repo, "v2.0.0")
    git(repo, "checkout", "-q", "--detach", old)
    check(repo, exact=False)
    assert scanned(repo)[0] == "v1.3.1"


def test_newer_tag_deeper_in_a_linear_history(repo: Path) -> None:
    tag(repo, "v2.0.0")
    commit(repo, "fix: a")
    tag(repo, "v1.9.0")  # a lower version tagged later: the newest version wins
    commit(repo, "fix: b")
    check(repo, exact=False)
    assert scanned(repo)[0] == "v2.0.0"


def test_merge_of_a_feature_branch_after_the_tag(repo: Path) -> None:
    commit(repo, "fix: a")
    tag(repo, "v1.3.2")
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, "feat: on the branch")
    git(repo, "checkout", "-q", "main")
    commit(repo, "fix: on main")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge branch 'feature'", "feature")
    check(repo, exact=False)
    assert scanned(repo)[0] == "v1.3.2"
    assert auto(repo) == "1.4.0"


def test_branch_from_before_the_tag_merged_after_it(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, "feat!: from before the release")
    git(repo, "checkout", "-q", "main")
    commit(repo, "fix: a")
    tag(repo, "v1.3.2")
    commit(repo, "docs: b")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge branch 'feature'", "feature")
    check(repo, exact=False)
    assert auto(repo) == "2.0.0"


def test_maintenance_tag_merged_after_a_newer_release(repo: Path) -> None:
    tag(repo, "v1.3.0")
    git(repo, "checkout", "-q", "-b", "maint")
    commit(repo, "fix: backport")
    tag(repo, "v1.2.9")
    git(repo, "checkout", "-q", "main")
    commit(repo, "feat: a")
    tag(repo, "v1.3.2")
    commit(repo, "fix: b")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge branch 'maint'", "maint")
    check(repo)
    assert scanned(repo)[0] == "v1.3.2"


def test_tags_only_on_an_unmerged_branch(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "other")
    commit(repo, "feat: elsewhere")
    tag(repo, "v5.0.0")
    git(repo, "checkout", "-q", "main")
    commit(repo, "fix: here")
    git(repo, "checkout", "-q", "-b", "side")
    commit(repo, "feat: side")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge branch 'side'", "side")
    check(repo)
    assert scanned(repo)[0] is None
    assert auto(repo) == "1.4.0"


def test_unborn_head_with_tags(repo: Path) -> None:
    commit(repo, "feat: a")
    tag(repo, "v1.3.2")
    git(repo, "checkout", "-q", "--orphan", "empty")
    git(repo, "rm", "-q", "-r", "--cached", ".")
    check(repo)
