"""``relkit release`` end to end: a real repository with a bare remote, ``relkit build``
building the image, the test registry, and two compose stacks (staging, production).

relkit runs as a real process (``python -m relkit``) without a terminal, so that
the approval gate, SIGKILL and the journal behave as they do in CI.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from tests.release.conftest import (
    ReleaseRepo,
    ReleaseRepoFactory,
    StderrWatch,
)

pytestmark = pytest.mark.docker

UNRELEASED_NOTE = "- A version endpoint that says which release runs."
NEXT_STEP = (
    "the release stopped; fix the cause and run 'relkit release --resume',"
    " or fix forward with a patch release"
)
STEPS = [
    "preflight",
    "bump",
    "build",
    "push",
    "deploy:staging",
    "deploy:production",
    "tag",
    "push-tag",
    "notes",
]


def states(repo: ReleaseRepo) -> dict[str, str]:
    return {name: step["state"] for name, step in repo.steps().items()}


def pushed_digest(repo: ReleaseRepo) -> str:
    return str(repo.steps()["push"]["detail"]["digests"][repo.image])


def assert_released(repo: ReleaseRepo, version: str) -> None:
    """The release commit and the annotated tag with the notes are on the remote."""
    tag = f"v{version}"
    (commit,) = repo.release_commits(version)
    assert repo.git("rev-parse", "HEAD") == commit
    assert repo.remote_git("rev-parse", "main") == commit
    assert repo.remote_tags().count(tag) == 1
    assert repo.remote_git("cat-file", "-t", f"refs/tags/{tag}") == "tag"  # annotated
    assert repo.remote_git("rev-parse", f"{tag}^{{commit}}") == commit
    journal = repo.journal()
    assert journal["finished"] is True
    assert journal["outcome"] == "released"
    assert journal["release_commit"] == commit


def test_dry_run_prints_the_plan_and_changes_nothing(release_repo: ReleaseRepoFactory) -> None:
    repo = release_repo()
    before = repo.snapshot()

    text = repo.run("release", "minor", "--dry-run")
    as_json = repo.run("release", "minor", "--dry-run", "--json")

    assert text.returncode == 0, text.stderr
    assert text.stdout == "1.1.0\n"
    assert text.stderr == (
        "would release 1.0.0 → 1.1.0\n"
        "  files: VERSION, CHANGELOG.md\n"
        "  commit: chore(release): 1.1.0\n"
        f"  image {repo.image}: 1.1.0, 1.1, 1, latest, sha-<release commit> (build)\n"
        "  deploy: staging\n"
        "  deploy: production (approval)\n"
        "  tag: v1.1.0\n"
        "  steps: " + " → ".join(STEPS) + "\n"
    )
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == {
        "previous": "1.0.0",
        "version": "1.1.0",
        "files": ["VERSION", "CHANGELOG.md"],
        "commit": "chore(release): 1.1.0",
        "tag": "v1.1.0",
        "signed": False,
        "images": [
            {
                "name": repo.image,
                "tags": ["1.1.0", "1.1", "1", "latest", "sha-<release commit>"],
                "source": "build",
            }
        ],
        "environments": [
            {"name": "staging", "approval": False},
            {"name": "production", "approval": True},
        ],
        "steps": STEPS,
        "dry_run": True,
    }
    assert repo.snapshot() == before
    assert repo.registry_tags() == []


def test_full_release_across_staging_and_production(
    release_repo: ReleaseRepoFactory, tmp_path: Path
) -> None:
    repo = release_repo()
    notes, outputs, summary = (tmp_path / name for name in ("notes.md", "output", "summary"))
    github = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_STEP_SUMMARY": str(summary),
    }

    result = repo.run("release", "minor", "--yes", "--notes-file", str(notes), env=github)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "1.1.0\n"
    assert result.stderr.endswith("released 1.1.0 (v1.1.0)\n")
    assert outputs.read_text() == "version=1.1.0\ntag=v1.1.0\n"
    report = summary.read_text()
    assert report.startswith("### Released 1.1.0 (v1.1.0)\n")
    for step in STEPS[1:]:
        assert f"| {step} | done | " in report
    assert notes.read_text().startswith("## 1.1.0 (")
    assert UNRELEASED_NOTE in notes.read_text()
    assert repo.served("staging") == "1.1.0"
    assert repo.served("production") == "1.1.0"
    assert_released(repo, "1.1.0")
    message = repo.remote_git("cat-file", "-p", "refs/tags/v1.1.0")
    assert "## 1.1.0 (" in message
    assert UNRELEASED_NOTE in message
    assert (repo.root / "VERSION").read_text() == "1.1.0\n"
    assert "## [1.1.0]" in (repo.root / "CHANGELOG.md").read_text()
    # Images: every tag in the registry; both stacks run the pushed digest.
    commit = repo.git("rev-parse", "HEAD")
    assert repo.registry_tags() == sorted(["1", "1.1", "1.1.0", "latest", f"sha-{commit[:7]}"])
    digest = pushed_digest(repo)
    assert repo.registry_digest("1.1.0") == digest
    assert repo.web_image("staging") == repo.web_image("production") == f"{repo.image}@{digest}"
    assert states(repo) == dict.fromkeys(STEPS, "done")
    assert [r["outcome"] for r in repo.records("production")] == ["succeeded"]
    assert repo.lock_container("staging") is None
    assert repo.lock_container("production") is None


def test_production_approval_needs_yes_then_resume_finishes(
    release_repo: ReleaseRepoFactory,
) -> None:
    repo = release_repo()
    origin_main = repo.remote_git("rev-parse", "main")

    stopped = repo.run("release", "minor")

    assert stopped.returncode == 1, stopped.stderr
    assert stopped.stdout == ""
    assert (
        "error: environment production needs approval and there is no terminal to ask"
        in stopped.stderr
    )
    assert "pass --yes to approve" in stopped.stderr
    assert NEXT_STEP in stopped.stderr
    assert repo.served("staging") == "1.1.0"
    assert repo.served("production") is None
    assert repo.containers("production") == []
    assert repo.lock_container("production") is None
    step = repo.steps()["deploy:production"]
    assert step["state"] == "failed"
    assert "needs approval" in step["error"]
    assert repo.remote_tags() == []
    assert repo.remote_git("rev-parse", "main") == origin_main

    resumed = repo.run("release", "--resume", "--yes", "--json")

    assert resumed.returncode == 0, resumed.stderr
    result = json.loads(resumed.stdout)  # the finished journal
    assert (result["version"], result["finished"], result["outcome"]) == ("1.1.0", True, "released")
    assert [s["state"] for s in result["steps"]] == ["done"] * len(STEPS)
    assert result == repo.journal()
    for done in ("bump", "build", "push", "deploy:staging"):
        assert f"[release]   {done}: already done\n" in resumed.stderr
    assert "▶ deploy:staging" not in resumed.stderr
    assert repo.served("production") == "1.1.0"
    assert_released(repo, "1.1.0")


def test_killed_mid_release_resumes_without_repeating_steps(
    release_repo: ReleaseRepoFactory,
) -> None:
    repo = release_repo()
    proc = repo.popen("release", "minor", "--yes")
    watch = StderrWatch(proc)
    try:
        in_production = watch.wait_for("▶ deploy:production", timeout=90)
        assert in_production is not None, watch.text
        # Then production's health wait: the production lock is held by then.
        waiting = watch.wait_for("▶ health", timeout=60, start=in_production)
        assert waiting is not None, "".join(watch.lines)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.stdout is not None
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert repo.lock_container("production") is not None  # left behind by the killed run
    assert states(repo)["deploy:production"] == "running"
    built_id = repo.steps()["build"]["detail"]["images"][repo.image]
    journal_before = repo.journal_path.read_bytes()

    plan = repo.run("release", "--resume", "--dry-run")

    assert plan.returncode == 0, plan.stderr
    assert plan.stdout == "1.1.0\n"
    assert plan.stderr == (
        "would resume the release of 1.0.0 → 1.1.0\n"
        "  steps: preflight (done) → bump (done) → build (done) → push (done)"
        " → deploy:staging (done) → deploy:production (running) → tag (pending)"
        " → push-tag (pending) → notes (pending)\n"
    )
    assert repo.journal_path.read_bytes() == journal_before

    again = repo.run("release", "minor", "--yes")

    assert again.returncode == 1
    assert again.stdout == ""
    assert "error: a release of 1.1.0 is unfinished" in again.stderr
    assert "relkit release --resume" in again.stderr

    resumed = repo.run("release", "--resume", "--yes")

    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout == "1.1.0\n"
    assert "[release]   resuming the release of 1.1.0\n" in resumed.stderr
    for done in ("bump", "build", "push", "deploy:staging"):
        assert f"[release]   {done}: already done\n" in resumed.stderr
        assert f"▶ {done}\n" not in resumed.stderr
    assert "warning: broke a stale lock of" in resumed.stderr
    assert "is no longer running" in resumed.stderr
    assert repo.lock_container("production") is None
    assert repo.served("production") == "1.1.0"
    assert len(repo.release_commits("1.1.0")) == 1
    assert repo.git("tag", "--list") == "v1.1.0"
    assert_released(repo, "1.1.0")
    # Built once: one image, the one the build step recorded.
    assert repo.local_images() == [built_id]
    assert repo.image_id("1.1.0") == built_id
    outcomes = [r["outcome"] for r in repo.records("production")]
    assert sorted(outcomes) == ["interrupted", "succeeded"]


def test_resume_refuses_when_head_moved_or_version_files_changed(
    release_repo: ReleaseRepoFactory,
) -> None:
    repo = release_repo()
    # Stop after bump, build and push: production's approval has no --yes.
    stopped = repo.run("release", "minor", "--env", "production")
    assert stopped.returncode == 1, stopped.stderr
    release_commit = repo.journal()["release_commit"]
    assert repo.git("rev-parse", "HEAD") == release_commit

    (repo.root / "VERSION").write_text("1.1.1\n")
    edited = repo.run("release", "--resume", "--yes")

    assert edited.returncode == 1
    assert edited.stdout == ""
    assert "error: the version files say 1.1.1, the unfinished release is 1.1.0" in edited.stderr
    assert "restore them, or --abandon" in edited.stderr

    repo.git("checkout", "--", "VERSION")
    moved_to = repo.commit({"NOTES.txt": "late change\n"}, "fix: a late change")
    moved = repo.run("release", "--resume", "--yes")

    assert moved.returncode == 1
    assert moved.stdout == ""
    assert (
        f"error: HEAD moved since the release commit of 1.1.0"
        f" ({release_commit[:12]} → {moved_to[:12]})" in moved.stderr
    )
    assert (
        "put the release branch back on the release commit to resume"
        f" (git reset --hard {release_commit[:12]}, after saving the new commits elsewhere)"
    ) in moved.stderr
    repo.git("checkout", "-q", "--detach", release_commit)
    detached = repo.run("release", "--resume", "--yes")

    assert detached.returncode == 1
    assert detached.stdout == ""
    assert "error: HEAD is detached: the release pushes its branch together with the tag" in (
        detached.stderr
    )
    repo.git("checkout", "-q", "main")
    # Neither refusal touched the journal, the tags or the remote.
    assert states(repo)["deploy:production"] == "failed"
    assert repo.git("tag", "--list") == ""
    assert repo.remote_tags() == []

    repo.git("reset", "-q", "--hard", release_commit)
    resumed = repo.run("release", "--resume", "--yes")

    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout == "1.1.0\n"
    assert repo.served("production") == "1.1.0"
    assert repo.served("staging") is None  # --env production only
    assert_released(repo, "1.1.0")


def test_prerelease_goes_to_staging_and_is_promoted_without_rebuild(
    release_repo: ReleaseRepoFactory,
) -> None:
    repo = release_repo()

    rc = repo.run("release", "minor", "--pre", "rc", "--yes")

    assert rc.returncode == 0, rc.stderr
    assert rc.stdout == "1.1.0-rc.1\n"
    assert [s["name"] for s in repo.journal()["steps"]] == [
        s for s in STEPS if s != "deploy:production"
    ]
    assert repo.served("staging") == "1.1.0-rc.1"
    assert repo.served("production") is None
    assert repo.containers("production") == []
    assert_released(repo, "1.1.0-rc.1")
    rc_digest = repo.registry_digest("1.1.0-rc.1")
    rc_image = repo.image_id("1.1.0-rc.1")
    plan = repo.run("release", "release", "--dry-run", "--json")
    assert plan.returncode == 0, plan.stderr
    described = json.loads(plan.stdout)
    assert (described["previous"], described["version"]) == ("1.1.0-rc.1", "1.1.0")
    assert described["images"][0]["source"] == "retag of 1.1.0-rc.1"
    assert described["environments"] == [
        {"name": "staging", "approval": False},
        {"name": "production", "approval": True},
    ]

    final = repo.run("release", "release", "--yes")

    assert final.returncode == 0, final.stderr
    assert final.stdout == "1.1.0\n"
    assert f"[release]   retagged {repo.image} 1.1.0-rc.1 → 1.1.0\n" in final.stderr
    assert repo.registry_digest("1.1.0") == rc_digest
    assert pushed_digest(repo) == rc_digest
    assert repo.local_images() == [rc_image]  # nothing was rebuilt
    # The promoted images report the version they were built and tested as.
    assert repo.served("production") == "1.1.0-rc.1"
    assert repo.served("staging") == "1.1.0-rc.1"
    assert repo.web_image("production") == f"{repo.image}@{rc_digest}"
    assert sorted(r["version"] for r in repo.records("staging")) == ["1.1.0", "1.1.0-rc.1"]
    assert_released(repo, "1.1.0")
    assert sorted(repo.remote_tags()) == ["v1.1.0", "v1.1.0-rc.1"]


def test_failure_in_production_rolls_back_and_pushes_no_tag(
    release_repo: ReleaseRepoFactory,
) -> None:
    # Production's healthcheck fails for 1.1.0 only; 1.0.0 runs there first.
    repo = release_repo(break_production="1.1.0", health_timeout=10)
    built = repo.run("build", "--push")
    assert built.returncode == 0, built.stderr
    deployed = repo.run("deploy", "production", "--version", "1.0.0", "--yes")
    assert deployed.returncode == 0, deployed.stderr
    assert repo.served("production") == "1.0.0"
    origin_main = repo.remote_git("rev-parse", "main")

    result = repo.run("release", "minor", "--yes")

    assert result.returncode == 3, result.stderr
    assert result.stdout == ""
    assert "warning: deploy failed:" in result.stderr
    assert "rolling back to 1.0.0" in result.stderr
    assert "error: deploy of 1.1.0 to production failed:" in result.stderr
    assert "rolled back to 1.0.0, which is healthy" in result.stderr
    assert NEXT_STEP in result.stderr
    assert repo.served("staging") == "1.1.0"
    assert repo.served("production") == "1.0.0"
    journal = repo.journal()
    assert journal["finished"] is False
    assert journal["outcome"] == "failed"
    assert states(repo) == {
        **dict.fromkeys(STEPS[:5], "done"),
        "deploy:production": "failed",
        **dict.fromkeys(STEPS[6:], "pending"),
    }
    assert "deploy of 1.1.0 to production failed" in repo.steps()["deploy:production"]["error"]
    assert repo.git("tag", "--list") == ""
    assert repo.remote_tags() == []
    assert repo.remote_git("rev-parse", "main") == origin_main
    outcomes = sorted(r["outcome"] for r in repo.records("production"))
    assert outcomes == ["rolled_back", "succeeded", "succeeded"]

    # The next step: fix the config (production's healthcheck) and resume.
    (repo.root / "docker-compose.production.yml").write_text(
        f'services:\n  web:\n    ports:\n      - "127.0.0.1:{repo.ports["production"]}:8080"\n'
    )
    resumed = repo.run("release", "--resume", "--yes")

    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout == "1.1.0\n"
    assert "[release]   deploy:staging: already done\n" in resumed.stderr
    assert repo.served("production") == "1.1.0"
    assert_released(repo, "1.1.0")


def test_abandon_drops_the_journal(release_repo: ReleaseRepoFactory) -> None:
    repo = release_repo()
    stopped = repo.run("release", "minor", "--env", "production")  # no --yes: stops there
    assert stopped.returncode == 1, stopped.stderr
    assert repo.journal()["finished"] is False

    dropped = repo.run("release", "--abandon")

    assert (dropped.returncode, dropped.stdout) == (0, "")
    assert dropped.stderr == "dropped the unfinished release\n"
    assert not repo.journal_path.exists()
    again = repo.run("release", "--abandon")
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "no release journal\n")
    nothing = repo.run("release", "--resume", "--yes")
    assert nothing.returncode == 1
    assert nothing.stdout == ""
    assert "error: there is no unfinished release to resume" in nothing.stderr


def test_failing_check_stops_the_release_in_preflight(release_repo: ReleaseRepoFactory) -> None:
    repo = release_repo(checks=["true", "sh -c 'echo 2 tests failed >&2; exit 7'"])
    before = repo.snapshot()

    result = repo.run("release", "minor", "--yes")

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("[release] ▶ preflight\n[release]   check: true\n")
    assert "[release] ✗ preflight (" in result.stderr
    assert (
        "error: check \"sh -c 'echo 2 tests failed >&2; exit 7'\" failed (exit 7):\n2 tests failed"
    ) in result.stderr
    assert "nothing was changed" in result.stderr
    assert NEXT_STEP not in result.stderr  # nothing to resume
    assert repo.snapshot() == before
    assert repo.registry_tags() == []
