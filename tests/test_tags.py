"""``relkit tag``: real GPG and SSH keys, a real bare repository as the remote."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from relkit.cli import app
from tests.conftest import GitRepo, git

runner = CliRunner()
CHANGELOG = (
    "# Changelog\n\n## [Unreleased]\n\n## [1.0.0] - 2026-01-01\n\n### Added\n\n- # not a comment\n"
)


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout


@pytest.fixture
def release_repo(make_repo: GitRepo, tmp_path: Path) -> tuple[Path, Path]:
    repo = make_repo(
        {"VERSION": "1.0.0\n", "CHANGELOG.md": CHANGELOG}, message="chore(release): 1.0.0"
    )
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    return repo, remote


def test_tag_message_is_the_notes_and_push_is_atomic(release_repo: tuple[Path, Path]) -> None:
    repo, remote = release_repo
    assert run("tag", "--push") == (0, "v1.0.0\n")
    message = git(repo, "tag", "-l", "--format=%(contents)", "v1.0.0")
    assert message == "## 1.0.0 (2026-01-01)\n\n### Added\n\n- # not a comment"
    assert git(remote, "rev-parse", "refs/tags/v1.0.0^{}") == git(repo, "rev-parse", "HEAD")
    assert git(remote, "rev-parse", "refs/heads/main") == git(repo, "rev-parse", "HEAD")
    assert run("tag")[0] == 1  # exists locally
    git(repo, "tag", "-d", "v1.0.0")
    assert run("tag")[0] == 1  # exists on the remote (ls-remote)


def test_refuses_when_head_is_not_the_release_commit(release_repo: tuple[Path, Path]) -> None:
    repo, _ = release_repo
    git(repo, "commit", "-q", "--allow-empty", "-m", "fix: later")
    assert run("tag")[0] == 1
    assert run("tag", "--force-ref") == (0, "v1.0.0\n")


def test_atomic_push_leaves_no_tag_when_the_branch_is_rejected(
    release_repo: tuple[Path, Path], tmp_path: Path
) -> None:
    repo, remote = release_repo
    git(repo, "push", "-q", "origin", "main")
    git(
        repo,
        "commit",
        "-q",
        "--amend",
        "--allow-empty",
        "--date=2001-01-01T00:00:00",
        "-m",
        "chore(release): 1.0.0",
    )
    assert run("tag", "--push")[0] == 1  # non-fast-forward: the branch is refused
    assert git(remote, "tag", "--list") == ""


def test_gpg_signed_tag_verifies(
    release_repo: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("gpg") is None:
        pytest.fail("gpg is required for this test")
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    monkeypatch.setenv("GNUPGHOME", str(home))
    subprocess.run(
        [
            "gpg",
            "--batch",
            "--passphrase",
            "",
            "--quick-gen-key",
            "Relkit Test <test@relkit.invalid>",
            "ed25519",
            "sign",
            "never",
        ],
        check=True,
        capture_output=True,
    )
    repo, _ = release_repo
    git(repo, "config", "user.signingkey", "test@relkit.invalid")
    assert run("tag", "--sign") == (0, "v1.0.0\n")
    assert run("tag", "verify") == (0, "v1.0.0\n")
    git(repo, "tag", "-a", "-m", "unsigned", "v0.9.0")
    assert run("tag", "verify", "v0.9.0")[0] == 1


def test_ssh_signed_tag_verifies(release_repo: tuple[Path, Path], tmp_path: Path) -> None:
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f"test@relkit.invalid {(tmp_path / 'id_ed25519.pub').read_text()}")
    repo, _ = release_repo
    git(repo, "config", "gpg.format", "ssh")
    git(repo, "config", "user.signingkey", str(key))
    git(repo, "config", "gpg.ssh.allowedSignersFile", str(allowed))
    (repo / "pyproject.toml").write_text("[tool.relkit]\nsign_tags = true\n")
    assert run("tag") == (0, "v1.0.0\n")
    assert run("tag", "verify", "v1.0.0") == (0, "v1.0.0\n")
    allowed.write_text("")
    assert run("tag", "verify", "v1.0.0")[0] == 1
    assert os.path.exists(key)
