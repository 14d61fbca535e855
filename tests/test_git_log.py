"""``git.log_records`` and ``git.LogStream``: one git log, started at once, read as a stream."""

from __future__ import annotations

from pathlib import Path

import pytest

from relkit import git
from relkit.errors import GitError
from tests.cli.support import commit
from tests.cli.support import git as run_git
from tests.conftest import GitRepo


@pytest.fixture
def repo(make_repo: GitRepo) -> Path:
    path = make_repo({"a.txt": "a\n"}, message="chore: init")
    commit(path, "feat: one\n\nbody line\n\nRefs: 1")
    run_git(path, "tag", "-a", "v1.0.0", "-m", "v1.0.0")
    commit(path, "fix: two")
    return path


def test_records_newest_first_with_decorations(repo: Path) -> None:
    records = list(git.log_records(repo, ("%s", "%D", "%B")))
    assert [r[0] for r in records] == ["fix: two", "feat: one", "chore: init"]
    assert "tag: v1.0.0" in records[1][1]
    assert git.decoration_tags(records[1][1]) == ["v1.0.0"]
    assert records[1][2].strip("\n") == "feat: one\n\nbody line\n\nRefs: 1"


def test_stream_starts_before_it_is_read_and_closes_unread(repo: Path) -> None:
    stream = git.LogStream(repo, ("%H",))
    assert stream.proc is not None
    proc = stream.proc
    stream.close()
    assert stream.proc is None and proc.returncode is not None
    stream.close()  # twice is fine
    assert list(stream) == []


def test_stream_read_to_the_end(repo: Path) -> None:
    stream = git.LogStream(repo, ("%s",), options=("--topo-order",))
    assert [r[0] for r in stream] == ["fix: two", "feat: one", "chore: init"]
    assert stream.proc is None


def test_no_commits_no_process(tmp_path: Path) -> None:
    run_git(tmp_path, "init", "-q")
    stream = git.LogStream(tmp_path, ("%H",))
    assert stream.proc is None
    assert list(stream) == []
    assert list(git.log_records(tmp_path, ("%H",))) == []


def test_a_failing_log_raises(repo: Path) -> None:
    with pytest.raises(GitError, match=r"git log nope\.\.HEAD failed"):
        list(git.log_records(repo, ("%H",), "nope..HEAD"))


def test_decoration_tags() -> None:
    assert git.decoration_tags("HEAD -> main, tag: v1.2.0, tag: x, origin/main") == ["v1.2.0", "x"]
    assert git.decoration_tags("") == []
