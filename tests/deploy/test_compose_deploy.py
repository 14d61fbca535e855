"""Deploy, rollback, status, history and the lock against a real engine, compose and registry.

Every test runs a throw-away stack (see conftest.py): a busybox web service whose
image versions are built and pushed to the test registry per test. The CLI runs
as a real process (``python -m relkit`` in the repository) where the process
matters (exit codes, no TTY, SIGKILL, races), through CliRunner elsewhere.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import re
import signal
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from relkit.docker import lock as engine_lock
from tests.conftest import git
from tests.deploy.conftest import ENV, Stack, StackFactory, wait_until
from tests.web_image import SLOW, SLOW_SECONDS, UNHEALTHY, WRONG_VERSION

pytestmark = pytest.mark.docker

USER = getpass.getuser()
HOST = socket.gethostname()


def test_good_deploy_is_recorded_and_status_reports_drift(make_stack: StackFactory) -> None:
    stack = make_stack()
    pinned = stack.build("1.0.0")
    stack.build("2.0.0")

    result = stack.deploy("1.0.0")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "1.0.0\n"
    for step in ("lock", "rollout", "health", "smoke"):
        assert f"▶ {step}" in result.stderr
        assert f"✓ {step} (" in result.stderr
    assert "deployed 1.0.0 to staging in " in result.stderr
    assert stack.served_version() == "1.0.0"
    assert stack.web_image() == pinned
    assert stack.lock_container() is None

    status = stack.status()
    assert status["release"]["version"] == "1.0.0"
    assert status["release"]["outcome"] == "succeeded"
    assert status["drift"] == []
    assert status["lock"] is None
    assert status["notes"] == []
    assert [(s["service"], s["status"], s["health"], s["image"]) for s in status["services"]] == [
        ("web", "running", "healthy", pinned)
    ]

    history = stack.history()
    assert len(history) == 1
    record = history[0]
    assert record["kind"] == "deploy"
    assert record["outcome"] == "succeeded"
    assert record["version"] == "1.0.0"
    assert record["environment"] == ENV
    assert record["namespace"] == stack.project
    assert record["images"] == {stack.image: pinned}
    assert record["git_sha"] == git(stack.root, "rev-parse", "HEAD")
    assert record["who"] == USER
    assert record["previous"] is None
    assert record["error"] is None
    assert set(record["durations"]) == {"lock", "rollout", "health", "smoke"}
    assert all(isinstance(s, float) and s >= 0 for s in record["durations"].values())
    assert record["durations"]["health"] >= 1.0  # healthcheck interval 1s, then settle

    # Someone recreates web with another image behind relkit's back: drift, exit 1.
    (stack.root / "drift.yml").write_text(
        f'version: "3.8"\nservices:\n  web:\n    image: "{stack.image}:2.0.0"\n'
    )
    up = stack.compose("up", "-d", "web", files=["drift.yml"])
    assert up.returncode == 0, up.stderr
    assert wait_until(lambda: stack.served_version() == "2.0.0", timeout=15)

    human = stack.invoke("status", ENV)
    as_json = stack.invoke("status", ENV, "--json")

    drift = f"web ({stack.project}_web_1) runs {stack.image}:2.0.0, recorded {pinned}"
    assert human.exit_code == 1
    assert f"warning: drift: {drift}\n" in human.stderr
    assert re.fullmatch(
        rf"web +(starting|healthy) +{re.escape(stack.image)}:2\.0\.0\n", human.stdout
    )
    assert as_json.exit_code == 1
    report = json.loads(as_json.stdout)
    assert report["drift"] == [drift]
    assert report["release"]["version"] == "1.0.0"

    # The record lives with the engine, not with the stack: it survives `down -v`.
    down = stack.compose("down", "-v", "--remove-orphans", "-t", "2")
    assert down.returncode == 0, down.stderr
    assert stack.web_containers() == []
    assert stack.history() == history
    gone = stack.invoke("status", ENV, "--json")
    assert gone.exit_code == 1
    assert json.loads(gone.stdout)["drift"] == [f"web has no container, recorded {pinned}"]


def _assert_rolled_back(stack: Stack, failed: str, good: str, serves: str, reason: str) -> None:
    """After a failed deploy of *failed*: *good* answers and the history says so."""
    assert stack.served_version() == serves
    assert stack.web_image() == stack.built[good]
    newest, failed_record = stack.history()[:2]
    assert (failed_record["kind"], failed_record["version"], failed_record["outcome"]) == (
        "deploy",
        failed,
        "rolled_back",
    )
    assert reason in failed_record["error"]
    assert failed_record["previous_version"] == good
    assert "rollback" in failed_record["durations"]
    assert (newest["kind"], newest["version"], newest["outcome"]) == ("rollback", good, "succeeded")
    assert newest["images"] == {stack.image: stack.built[good]}
    assert newest["who"] == f"{USER} (automatic rollback of {failed})"
    assert newest["previous"] == failed_record["id"]
    assert failed_record["rolled_back_to"] == failed_record["previous"]
    restored = next(r for r in stack.history() if r["id"] == failed_record["previous"])
    assert (restored["version"], restored["outcome"]) == (good, "succeeded")
    assert stack.status()["release"]["version"] == good
    assert stack.lock_container() is None


class Webhook:
    """A Slack-compatible webhook receiver on 127.0.0.1 (http.server in a thread)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.posts: list[tuple[str, str, dict[str, str]]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.posts.append((self.path, self.headers["Content-Type"], json.loads(body)))
                time.sleep(hook.delay)
                with contextlib.suppress(OSError):  # relkit may have given up waiting
                    self.send_response(200)
                    self.end_headers()
                    self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.close()


@pytest.fixture
def slow_webhook() -> Iterator[Webhook]:
    hook = Webhook(delay=8.0)  # longer than relkit's 5 s webhook timeout
    yield hook
    hook.close()


SECRET = "/services/T0SECRET/B0SECRET/xoxb-3cr3t-t0k3n"


def test_failed_health_and_failed_smoke_roll_back_with_exit_3_and_notify(
    make_stack: StackFactory, webhook: Webhook
) -> None:
    # 1.0.0 is a promoted release, as `relkit release` makes them: the tested
    # images of 1.0.0-rc.1 tagged 1.0.0; they answer /version with 1.0.0-rc.1.
    stack = make_stack(notify=[webhook.url(SECRET)])
    stack.build("1.0.0-rc.1")
    stack.promote("1.0.0-rc.1", "1.0.0")
    stack.build("2.0.0", UNHEALTHY)
    stack.build("3.0.0", WRONG_VERSION)
    good = stack.deploy("1.0.0")
    assert good.returncode == 0, good.stderr
    assert stack.served_version() == "1.0.0-rc.1"
    assert stack.history()[0]["reports"] == ["1.0.0-rc.1"]

    health = stack.deploy("2.0.0")

    assert health.returncode == 3, health.stderr
    assert health.stdout == ""
    assert "✗ health" in health.stderr
    assert "is unhealthy: wget: server returned error: HTTP/1.1 404 Not Found" in health.stderr
    assert "error: deploy of 2.0.0 to staging failed: " in health.stderr
    assert "rolled back to 1.0.0, which is healthy" in health.stderr
    _assert_rolled_back(stack, "2.0.0", "1.0.0", "1.0.0-rc.1", "is unhealthy")

    smoke = stack.deploy("3.0.0")

    assert smoke.returncode == 3, smoke.stderr
    assert smoke.stdout == ""
    assert "✓ health" in smoke.stderr
    assert "✗ smoke" in smoke.stderr
    assert "version is '3.0.0-wrong', expected '3.0.0'" in smoke.stderr
    assert "rolled back to 1.0.0, which is healthy" in smoke.stderr
    _assert_rolled_back(stack, "3.0.0", "1.0.0", "1.0.0-rc.1", "smoke test failed")
    assert len(stack.history()) == 5
    assert stack.history()[0]["reports"] == ["1.0.0-rc.1"]  # the rollback smoke-tested as built

    # A Slack-compatible POST for each outcome; the webhook URL is never shown.
    assert [(path, kind) for path, kind, _ in webhook.posts] == [(SECRET, "application/json")] * 3
    texts = [payload["text"] for _, _, payload in webhook.posts]
    assert [list(payload) for _, _, payload in webhook.posts] == [["text"]] * 3
    assert texts[0].startswith("relkit: deploy of 1.0.0 to staging succeeded in ")
    assert texts[1].startswith("relkit: deploy of 2.0.0 to staging rolled back in ")
    assert "is unhealthy" in texts[1]
    assert texts[2].startswith("relkit: deploy of 3.0.0 to staging rolled back in ")
    assert "smoke test failed" in texts[2]
    shown = [good.stdout, good.stderr, health.stdout, health.stderr, smoke.stdout, smoke.stderr]
    shown += [json.dumps(stack.history()), json.dumps(stack.status())]
    for text in shown:
        assert "T0SECRET" not in text and "xoxb" not in text


def test_first_deploy_failing_exits_4_and_no_rollback_exits_1_keeping_the_failed_release(
    make_stack: StackFactory,
) -> None:
    stack = make_stack()
    stack.build("1.0.0", UNHEALTHY)
    stack.build("2.0.0")
    failed = stack.build("3.0.0", UNHEALTHY)

    first = stack.deploy("1.0.0")

    assert first.returncode == 4, first.stderr
    assert first.stdout == ""
    assert "there is no earlier good release to roll back to" in first.stderr
    assert "the stack needs a person (relkit status staging)" in first.stderr
    [record] = stack.history()
    assert (record["version"], record["outcome"]) == ("1.0.0", "rollback_failed")
    assert "is unhealthy" in record["error"]
    assert stack.lock_container() is None

    assert stack.deploy("2.0.0").returncode == 0  # a good release repairs it

    kept = stack.deploy("3.0.0", "--no-rollback")

    assert kept.returncode == 1, kept.stderr
    assert kept.stdout == ""
    assert "▶ rollback" not in kept.stderr
    assert "not rolled back (--no-rollback): the stack runs the failed release" in kept.stderr
    assert stack.served_version() == "3.0.0"
    assert stack.web_image() == failed
    assert stack.status()["release"]["version"] == "2.0.0"
    newest = stack.history()[0]
    assert (newest["version"], newest["outcome"], newest["rollback"]) == ("3.0.0", "failed", False)
    assert len(stack.history()) == 3
    assert stack.lock_container() is None


def test_a_version_never_built_or_never_pushed_exits_1_naming_it(
    make_stack: StackFactory,
) -> None:
    stack = make_stack()
    local_only = stack.build("1.1.0", push=False)

    missing = stack.deploy("9.9.9")
    unpushed = stack.deploy("1.1.0")

    assert missing.returncode == 1
    assert missing.stdout == ""
    registry, _, repository = stack.image.partition("/")
    assert missing.stderr == (
        f"error: {registry} has no {repository}:9.9.9"
        " — build and push that version first: relkit build --push\n"
    )
    assert unpushed.returncode == 1
    assert unpushed.stdout == ""
    assert unpushed.stderr == missing.stderr.replace("9.9.9", "1.1.0")
    assert stack.client.images.get(local_only).attrs["RepoDigests"] == []
    assert stack.history() == []
    assert stack.web_containers() == []


def test_manual_rollback_by_digest_dry_run_and_to(make_stack: StackFactory) -> None:
    stack = make_stack()
    v1, v2 = stack.build("1.0.0"), stack.build("2.0.0")
    assert stack.deploy("1.0.0").returncode == 0
    assert stack.deploy("2.0.0").returncode == 0
    before = stack.history()

    dry = stack.invoke("rollback", ENV, "--dry-run")
    dry_json = stack.invoke("rollback", ENV, "--dry-run", "--json")

    assert dry.exit_code == 0
    assert dry.stdout == ""
    assert dry.stderr.splitlines()[:2] == [
        "would roll staging back from 2.0.0 to 1.0.0",
        f"  web: {v1}",
    ]
    assert dry_json.exit_code == 0
    plan = json.loads(dry_json.stdout)
    assert plan["kind"] == "rollback"
    assert (plan["from"], plan["version"]) == ("2.0.0", "1.0.0")
    assert plan["pins"] == {"web": v1}
    assert plan["images"] == {stack.image: v1}
    assert plan["migrations_between"] == []
    assert plan["dry_run"] is True
    assert stack.history() == before
    assert stack.served_version() == "2.0.0"
    assert stack.lock_container() is None

    # Time from the command to the old version answering (printed, not asserted).
    start = time.monotonic()
    process = stack.popen("rollback", ENV)
    answered = wait_until(lambda: stack.served_version() == "1.0.0", timeout=30, interval=0.02)
    old_answers = time.monotonic() - start
    stdout, stderr = process.communicate(timeout=60)
    total = time.monotonic() - start
    print(
        f"\nrollback timing: old version answers after {old_answers:.2f}s;"
        f" command finished after {total:.2f}s"
    )

    assert answered
    assert process.returncode == 0, stderr
    assert stdout == "1.0.0\n"
    assert "rolled staging back to 1.0.0" in stderr
    assert stack.web_image() == v1
    newest = stack.history()[0]
    assert (newest["kind"], newest["version"], newest["outcome"]) == (
        "rollback",
        "1.0.0",
        "succeeded",
    )
    assert newest["images"] == {stack.image: v1}
    assert newest["previous_version"] == "2.0.0"

    to = stack.run("rollback", ENV, "--to", "2.0.0")

    assert to.returncode == 0, to.stderr
    assert to.stdout == "2.0.0\n"
    assert stack.served_version() == "2.0.0"
    assert stack.web_image() == v2
    assert len(stack.history()) == 4

    unknown = stack.invoke("rollback", ENV, "--to", "7.7.7")
    assert unknown.exit_code == 1
    assert unknown.stderr == (
        "error: no successful release 7.7.7 of staging is recorded — recorded: 1.0.0, 2.0.0\n"
    )


def test_a_manual_lock_blocks_deploys_and_of_two_racing_deploys_one_exits_5(
    make_stack: StackFactory,
) -> None:
    stack = make_stack()
    stack.build("1.0.0")

    locked = stack.run("lock", ENV, "--reason", "maint")
    assert locked.returncode == 0, locked.stderr
    assert locked.stderr == f"locked staging ({stack.project}): maint\n"

    blocked = stack.deploy("1.0.0")

    assert blocked.returncode == 5
    assert blocked.stdout == ""
    assert re.search(
        rf"^error: {stack.project} is locked by {re.escape(USER)} on {re.escape(HOST)}"
        r" \(pid \d+\) since \S+ for manual: maint — ",
        blocked.stderr,
        re.MULTILINE,
    ), blocked.stderr
    assert stack.history() == []
    assert stack.web_containers() == []

    unlocked = stack.run("unlock", ENV, "--yes")
    assert unlocked.returncode == 0, unlocked.stderr
    assert unlocked.stderr.startswith("unlocked staging (was: ")
    assert stack.lock_container() is None

    # Unlocked: two deploys started at the same moment; the engine lets one win.
    first, second = (
        stack.popen("deploy", ENV, "--version", "1.0.0"),
        stack.popen("deploy", ENV, "--version", "1.0.0"),
    )
    results = [(p, *p.communicate(timeout=90)) for p in (first, second)]

    codes = sorted(p.returncode for p, _, _ in results)
    assert codes == [0, 5], [(p.returncode, err) for p, _, err in results]
    winner = next(r for r in results if r[0].returncode == 0)
    loser = next(r for r in results if r[0].returncode == 5)
    assert winner[1] == "1.0.0\n"
    assert loser[1] == ""
    holder = f"error: {stack.project} is locked by {USER} on {HOST} (pid {winner[0].pid})"
    assert holder in loser[2]
    assert "for deploy 1.0.0" in loser[2]
    assert [r["outcome"] for r in stack.history()] == ["succeeded"]
    assert stack.served_version() == "1.0.0"
    assert stack.lock_container() is None


def test_unlock_refuses_a_live_holder_without_yes(make_stack: StackFactory) -> None:
    stack = make_stack()
    held = engine_lock.acquire(stack.client, stack.project, "deploy 1.0.0")
    try:
        refused = stack.run("unlock", ENV)
        assert refused.returncode == 1
        assert refused.stderr.startswith("error: the holder looks alive: ")
        assert "pass --yes to remove the lock anyway" in refused.stderr
        assert stack.lock_container() is not None
        again = engine_lock.inspect(stack.client, stack.project)
        assert again is not None and again.token == held.info.token
    finally:
        held.release()
    assert stack.lock_container() is None


def test_sigkill_mid_rollout_is_explained_and_recovered(make_stack: StackFactory) -> None:
    stack = make_stack()
    stack.build("1.0.0")
    slow = stack.build("2.0.0", SLOW)
    assert stack.deploy("1.0.0").returncode == 0

    process = stack.popen("deploy", ENV, "--version", "2.0.0")
    assert process.stderr is not None
    seen = []
    for line in process.stderr:
        seen.append(line)
        if "▶ health" in line:
            break
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL, "".join(seen)
    assert stack.lock_container() is not None
    assert stack.history()[0]["outcome"] == "in_progress"

    status = stack.invoke("status", ENV)

    # The web container runs 2.0.0 while 1.0.0 is the recorded release: drift, exit 1.
    assert status.exit_code == 1
    assert re.search(rf"^web +\S+ +{re.escape(slow)}$", status.stdout, re.MULTILINE)
    assert (
        f"lock: held by {USER} on {HOST} (pid {process.pid})" in status.stderr
        and f"— stale: its holder (pid {process.pid} on {HOST}) is no longer running"
        in status.stderr
    ), status.stderr
    assert f"warning: a deploy of 2.0.0 by {USER} started " in status.stderr
    assert "was interrupted; run 'relkit deploy staging --version 1.0.0'" in status.stderr
    assert f"warning: drift: web ({stack.project}_web_1) runs {slow}" in status.stderr

    recovered = stack.deploy("2.0.0")

    assert recovered.returncode == 0, recovered.stderr
    assert recovered.stdout == "2.0.0\n"
    assert f"warning: broke a stale lock of {USER} on {HOST} (pid {process.pid})" in (
        recovered.stderr
    )
    assert f"warning: an earlier deploy of 2.0.0 by {USER} at " in recovered.stderr
    assert stack.served_version() == "2.0.0"
    newest, interrupted, first = stack.history()
    assert (newest["version"], newest["outcome"]) == ("2.0.0", "succeeded")
    assert newest["durations"]["health"] >= SLOW_SECONDS - 1
    assert (interrupted["version"], interrupted["outcome"]) == ("2.0.0", "interrupted")
    assert "lock went stale" in interrupted["error"]
    assert first["outcome"] == "succeeded"
    after = stack.invoke("status", ENV)
    assert after.exit_code == 0, after.stderr
    assert "warning" not in after.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["deploy", ENV, "--version", "1.0.0"],
        ["rollback", ENV],
        ["status", ENV],
        ["history", ENV],
        ["lock", ENV],
    ],
)
def test_engine_unreachable_exits_69_and_records_nothing(
    make_stack: StackFactory, args: list[str]
) -> None:
    stack = make_stack()

    result = stack.invoke(*args, env={"DOCKER_HOST": "tcp://127.0.0.1:1"})

    assert result.exit_code == 69
    assert result.stdout == ""
    assert result.stderr.startswith("error: cannot reach the Docker engine at tcp://127.0.0.1:1: ")
    assert "start dockerd, or set DOCKER_HOST / the environment's docker_host" in result.stderr
    assert stack.history() == []
    assert stack.lock_container() is None


def test_a_webhook_that_times_out_warns_and_the_deploy_succeeds(
    make_stack: StackFactory, slow_webhook: Webhook
) -> None:
    stack = make_stack(notify=[slow_webhook.url(SECRET)])
    stack.build("1.0.0")

    result = stack.deploy("1.0.0")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "1.0.0\n"
    port = slow_webhook.server.server_port
    assert re.search(
        rf"warning: webhook http://127\.0\.0\.1:{port}/\*\*\* failed: \S", result.stderr
    ), result.stderr
    assert len(slow_webhook.posts) == 1
    assert "xoxb" not in result.stderr and "T0SECRET" not in result.stderr
    assert stack.history()[0]["outcome"] == "succeeded"
    assert stack.lock_container() is None


def test_approval_needs_yes_without_a_terminal_and_records_the_approver(
    make_stack: StackFactory,
) -> None:
    stack = make_stack(approval=True)
    stack.build("1.0.0")

    refused = stack.deploy("1.0.0")

    assert refused.returncode == 1
    assert refused.stdout == ""
    assert (
        "error: environment staging needs approval and there is no terminal to ask"
        " — pass --yes to approve" in refused.stderr
    )
    assert "▶ rollout" not in refused.stderr
    assert stack.history() == []
    assert stack.web_containers() == []
    assert stack.lock_container() is None

    approved = stack.deploy("1.0.0", "--yes")

    assert approved.returncode == 0, approved.stderr
    [record] = stack.history()
    assert record["approval"]["by"] == f"{USER} (--yes)"
    assert record["approval"]["at"] >= record["started_at"][:19]
    assert "approval" in record["durations"]


def test_backup_migrate_and_restore_on_rollback(make_stack: StackFactory) -> None:
    stack = make_stack(one_offs=True)
    stack.build("1.0.0")
    stack.build("1.1.0")

    assert stack.deploy("1.0.0").returncode == 0
    first = stack.history()[0]
    migrating = stack.deploy("1.1.0")
    assert migrating.returncode == 0, migrating.stderr
    assert "✓ pre-deploy (" in migrating.stderr and "✓ migrate (" in migrating.stderr
    second = stack.history()[0]

    assert first["migrated"] is True and second["migrated"] is True
    assert first["backup"] == f"relkit-{first['id']}"
    assert second["backup"] == f"relkit-{second['id']}"
    assert {"pre-deploy", "migrate"} <= set(second["durations"])
    assert stack.volume_files() == {
        f"backups/{first['backup']}": "",  # nothing was migrated before 1.0.0
        f"backups/{second['backup']}": "1.0.0\n",
        "schema": "1.0.0\n1.1.0\n",
    }

    plain = stack.run("rollback", ENV)

    assert plain.returncode == 0, plain.stderr
    assert (
        "warning: a migration ran since 1.0.0; the database schema stays at the newer version"
        in plain.stderr
    )
    assert "▶ restore" not in plain.stderr
    assert stack.volume_files()["schema"] == "1.0.0\n1.1.0\n"
    assert stack.served_version() == "1.0.0"

    assert stack.deploy("1.1.0").returncode == 0
    third = stack.history()[0]
    data = stack.volume_files()
    assert data[f"backups/{third['backup']}"] == "1.0.0\n1.1.0\n"
    assert data["schema"] == "1.0.0\n1.1.0\n1.1.0\n"

    plan = json.loads(stack.invoke("rollback", ENV, "--restore-db", "--dry-run", "--json").stdout)
    # Back to 1.0.0's schema means the backup taken before the FIRST migration since
    # 1.0.0 was deployed: the plain rollback in between did not undo that migration.
    assert plan["restore_backup"] == second["backup"]
    assert plan["migrations_between"] == ["1.1.0", "1.1.0"]
    assert "restore" in plan["steps"]

    restored = stack.run("rollback", ENV, "--restore-db")

    assert restored.returncode == 0, restored.stderr
    assert "✓ restore (" in restored.stderr
    assert "schema stays at the newer version" not in restored.stderr
    data = stack.volume_files()
    assert data["restored-from"] == f"{second['backup']}\n"
    assert data["schema"] == "1.0.0\n"
    assert stack.served_version() == "1.0.0"
    newest = stack.history()[0]
    assert (newest["kind"], newest["version"], newest["backup"]) == (
        "rollback",
        "1.0.0",
        second["backup"],
    )
    assert "restore" in newest["durations"]
