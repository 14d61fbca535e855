"""``generate --all`` reads git's default order (it streams) and falls back to ``--topo-order``.

The result must be what build_all gives on a ``--topo-order`` log, with or
without merges, and whether or not the log was started before the command ran.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from relkit import git as relkit_git
from relkit.changelog import HISTORY_FIELDS, HISTORY_OPTIONS, plans
from relkit.changelog.generate import build_all
from relkit.changelog.model import parse
from relkit.config import load_config
from tests.conftest import GitRepo, git

HEAD = "# Changelog\n\n## [Unreleased]\n"


def commit(repo: Path, message: str) -> None:
    git(repo, "commit", "-q", "--allow-empty", "-m", message)


def topo_reference(repo: Path) -> str:
    config = load_config(repo)
    doc, _ = plans.read(config)
    assert doc is not None
    records = relkit_git.log_records(repo, ("%H", "%D", "%B"), options=("--topo-order",))
    text, _ = build_all(
        doc,
        records,
        plans.release_tag_infos(config),
        plans._order(config),
        forge=plans.forge_for(config),
        tag_for=plans._tag_for(config),
    )
    return text


def generated(repo: Path) -> str:
    plan = plans.plan_generate(load_config(repo), all_history=True)
    assert plan.edit is not None
    return plan.edit.new


def linear(repo: Path) -> None:
    commit(repo, "feat: one")
    git(repo, "tag", "v0.1.0")
    commit(repo, "fix: two")
    git(repo, "tag", "-a", "v0.2.0", "-m", "v0.2.0")
    commit(repo, "feat: three")


def merges(repo: Path) -> None:
    commit(repo, "feat: one")
    git(repo, "tag", "v0.1.0")
    git(repo, "checkout", "-q", "-b", "side")
    commit(repo, "fix: on the side")
    git(repo, "checkout", "-q", "main")
    commit(repo, "feat: on main")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge branch 'side'", "side")
    git(repo, "tag", "v0.2.0")
    commit(repo, "fix: after")


@pytest.mark.parametrize("history", [linear, merges], ids=["linear", "merges"])
def test_same_changelog_as_a_topo_ordered_log(make_repo: GitRepo, history: object) -> None:
    repo = make_repo({"VERSION": "0.2.0\n", "CHANGELOG.md": HEAD})
    git(repo, "remote", "add", "origin", "git@github.com:acme/api.git")
    assert callable(history)
    history(repo)
    expected = topo_reference(repo)
    assert generated(repo) == expected
    # A log started beforehand (as relkit.cli.main does) is taken and gives the same.
    relkit_git.start_log(repo, HISTORY_FIELDS, HISTORY_OPTIONS)
    assert relkit_git._started
    assert generated(repo) == expected
    assert not relkit_git._started
    assert "on the side" in expected or history is linear


def test_a_log_started_elsewhere_is_not_taken(make_repo: GitRepo, tmp_path: Path) -> None:
    repo = make_repo({"VERSION": "0.2.0\n", "CHANGELOG.md": HEAD})
    linear(repo)
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    relkit_git.start_log(other, HISTORY_FIELDS, HISTORY_OPTIONS)
    assert generated(repo) == topo_reference(repo)
    relkit_git._close_started()
    assert not relkit_git._started


def test_the_command_line_starts_the_log_first(make_repo: GitRepo) -> None:
    repo = make_repo({"VERSION": "0.2.0\n", "CHANGELOG.md": HEAD})
    linear(repo)
    code = (
        "import sys; sys.argv = ['relkit', 'changelog', 'generate', '--all', '--dry-run'];"
        "from relkit import git; import relkit.cli as c\n"
        "taken = []; real = git.log_stream\n"
        "def spy(*a):\n    taken.append(bool(git._started)); return real(*a)\n"
        "git.log_stream = spy\n"
        "try:\n    c.main()\nexcept SystemExit:\n    pass\n"
        "print(taken)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[True]"
    assert "+## [0.2.0]" in proc.stdout
    assert parse(topo_reference(repo))
