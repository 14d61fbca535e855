"""The swarm driver against a real single-node swarm, the real registry and real processes.

Fixtures: tests/deploy/swarm_stack.py, a plugin of tests/conftest.py (the swarm
is initialised when the engine is not a manager yet, and never left when it
already was). The web service
publishes its port in host mode with one replica on one node, so relkit must
update it stop-first (the host-mode port hazard); the worker has no port and
updates start-first.
"""

from __future__ import annotations

import getpass
import json
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import pytest

from relkit.docker import swarm_lock
from tests.deploy.conftest import ENV, wait_until
from tests.deploy.swarm_stack import CRASH, WORKER_BROKEN, SwarmStack
from tests.web_image import UNHEALTHY

pytestmark = pytest.mark.docker

USER = getpass.getuser()
HAZARD = "could never be placed; updating stop-first"


def _orders(stack: SwarmStack, name: str) -> tuple[str, str, float]:
    spec = stack.service(name)["Spec"]
    return (
        spec["UpdateConfig"]["Order"],
        spec["UpdateConfig"]["FailureAction"],
        spec["UpdateConfig"]["Monitor"] / 1e9,
    )


def test_good_deploy_pins_by_digest_records_in_the_swarm_and_reports_status(
    make_swarm_stack: Any,
) -> None:
    stack = make_swarm_stack(worker=True)
    pinned = stack.build("1.0.0")

    result = stack.deploy("1.0.0")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "1.0.0\n"
    for step in ("lock", "rollout", "health", "smoke"):
        assert f"✓ {step} (" in result.stderr
    assert "web: ignored on swarm: mem_limit" in result.stderr
    assert HAZARD in result.stderr
    assert stack.served_version() == "1.0.0"
    assert stack.service_image("web") == pinned
    assert stack.service_image("worker") == pinned
    # web: host-mode port on the only node -> stop-first; worker: start-first.
    # Monitor: at least swarm's 5s; the healthchecks need 1s x 2 retries.
    assert _orders(stack, "web") == ("stop-first", "rollback", 5.0)
    assert _orders(stack, "worker") == ("start-first", "rollback", 5.0)
    assert stack.lock_container() is None

    status = stack.status()
    assert status["release"]["version"] == "1.0.0"
    assert status["drift"] == []
    assert status["lock"] is None
    assert [(s["service"], s["status"], s["health"], s["image"]) for s in status["services"]] == [
        ("web", "running", "healthy", pinned),
        ("worker", "running", "healthy", pinned),
    ]

    # Records live in the swarm: a fresh process (no state on this side) reads them.
    fresh = subprocess.run(
        [sys.executable, "-m", "relkit", "history", ENV, "--json"],
        cwd=stack.root,
        env=stack.env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert fresh.returncode == 0, fresh.stderr
    [record] = json.loads(fresh.stdout)
    assert (record["kind"], record["version"]) == ("deploy", "1.0.0")
    assert record["outcome"] == "succeeded"
    assert record["namespace"] == stack.project
    assert record["images"] == {stack.image: pinned}
    assert set(record["durations"]) == {"lock", "rollout", "health", "smoke"}
    configs = stack.client.api.configs(
        filters={"label": f"org.relkit.record.namespace={stack.project}"}
    )
    assert len(configs) == 1  # older versions of the record were removed


def test_bad_deploy_is_rolled_back_and_exits_3_with_the_previous_version_answering(
    make_swarm_stack: Any,
) -> None:
    stack = make_swarm_stack()
    good = stack.build("1.0.0")
    stack.build("2.0.0", UNHEALTHY)
    assert stack.deploy("1.0.0").returncode == 0

    result = stack.deploy("2.0.0")

    assert result.returncode == 3, result.stderr
    assert result.stdout == ""
    # The gate failed on swarm's own rollback, not on its timeout.
    assert "✗ health" in result.stderr
    assert "not converged within" not in result.stderr
    assert "web: swarm update rollback" in result.stderr  # swarm rolled web back itself
    assert "rolled back to 1.0.0, which is healthy" in result.stderr
    assert stack.served_version() == "1.0.0"
    assert stack.service_image("web") == good
    newest, failed = stack.history()[:2]
    assert (failed["version"], failed["outcome"]) == ("2.0.0", "rolled_back")
    assert (newest["kind"], newest["version"]) == ("rollback", "1.0.0")
    assert newest["outcome"] == "succeeded"
    assert stack.status()["drift"] == []


def test_one_failing_service_takes_the_whole_stack_back(make_swarm_stack: Any) -> None:
    stack = make_swarm_stack(worker=True)
    good = stack.build("1.0.0")
    stack.build("2.0.0", WORKER_BROKEN)  # web is healthy in 2.0.0, the worker is not
    assert stack.deploy("1.0.0").returncode == 0

    result = stack.deploy("2.0.0")

    assert result.returncode == 3, result.stderr
    assert "worker: swarm update rollback" in result.stderr
    # Swarm rolls back only the worker; relkit takes web back to 1.0.0 as well.
    assert stack.service_image("web") == good
    assert stack.service_image("worker") == good
    assert stack.served_version() == "1.0.0"
    assert stack.history()[0]["version"] == "1.0.0"


def test_a_first_deploy_that_crashes_stops_after_3_failures_and_exits_4(
    make_swarm_stack: Any,
) -> None:
    stack = make_swarm_stack()
    stack.build("1.0.0", CRASH)

    result = stack.deploy("1.0.0")

    assert result.returncode == 4, result.stderr
    assert "not converged within" not in result.stderr  # it stopped, not timed out
    assert "web: 3 tasks failed: task: non-zero exit (1)" in result.stderr
    assert "there is no earlier good release to roll back to" in result.stderr
    [record] = stack.history()
    assert record["outcome"] == "rollback_failed"


def test_manual_rollback_and_a_redeploy_of_the_same_release(make_swarm_stack: Any) -> None:
    stack = make_swarm_stack(worker=True)
    one = stack.build("1.0.0")
    two = stack.build("2.0.0")
    assert stack.deploy("1.0.0").returncode == 0
    assert stack.deploy("2.0.0").returncode == 0
    assert stack.served_version() == "2.0.0"

    result = stack.run("rollback", ENV, "--yes")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "1.0.0\n"
    assert stack.served_version() == "1.0.0"
    assert (stack.service_image("web"), stack.service_image("worker")) == (one, one)
    newest = stack.history()[0]
    assert (newest["kind"], newest["version"]) == ("rollback", "1.0.0")
    assert newest["outcome"] == "succeeded"

    again = stack.run("rollback", ENV, "--to", "2.0.0", "--yes")
    assert again.returncode == 0, again.stderr
    assert stack.service_image("worker") == two
    # Deploying what already runs changes no spec: no update, converges at once.
    same = stack.deploy("2.0.0")
    assert same.returncode == 0, same.stderr


def test_lock_contention_exits_5_and_a_killed_holder_is_detected_by_pid(
    make_swarm_stack: Any,
) -> None:
    stack = make_swarm_stack()
    stack.build("1.0.0")

    held = stack.run("lock", ENV, "--reason", "maintenance")
    assert held.returncode == 0, held.stderr
    blocked = stack.deploy("1.0.0")
    assert blocked.returncode == 5, blocked.stderr
    assert f"is locked by {USER} on {socket.gethostname()}" in blocked.stderr
    assert "manual: maintenance" in blocked.stderr
    assert stack.status()["lock"]["purpose"] == "manual: maintenance"
    assert stack.run("unlock", ENV, "--yes").returncode == 0
    assert stack.lock_container() is None

    # A deploy killed with SIGKILL leaves its lock; its pid is gone on this host.
    victim = stack.popen("deploy", ENV, "--version", "1.0.0")
    assert wait_until(lambda: stack.lock_container() is not None, 30)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    assert stack.lock_container() is not None

    result = stack.deploy("1.0.0")

    assert result.returncode == 0, result.stderr
    assert f"(pid {victim.pid} on {socket.gethostname()}) is no longer running" in result.stderr
    assert stack.lock_container() is None


def test_the_lease_is_renewed_with_the_managers_clock(make_swarm_stack: Any) -> None:
    stack = make_swarm_stack()
    lock = swarm_lock.acquire(stack.client, stack.project, "test", lease=2.0)
    try:
        first = swarm_lock.inspect(stack.client, stack.project)
        assert first is not None and first.heartbeat is not None
        assert wait_until(
            lambda: (
                (swarm_lock.inspect(stack.client, stack.project).heartbeat or 0)  # type: ignore[union-attr]
                > first.heartbeat + 0.4
            ),  # type: ignore[operator]
            5,
        )
        assert swarm_lock.inspect(stack.client, stack.project).stale_reason() is None  # type: ignore[union-attr]
        # A lease that is not renewed goes stale even while its process lives.
        lock.stop_heartbeat()
        stack.client.api.remove_config(lock.info.container_id)
        other = swarm_lock.acquire(stack.client, stack.project, "other", lease=1.0)
        other.stop_heartbeat()  # its holder (this live process) stops renewing
        time.sleep(2.5)
        info = swarm_lock.inspect(stack.client, stack.project)
        assert info is not None
        reason = info.stale_reason()
        assert reason is not None and reason.startswith("no heartbeat for ")
    finally:
        swarm_lock.force_release(stack.client, stack.project)


def test_one_off_jobs_run_as_swarm_jobs_on_the_stack_volume(make_swarm_stack: Any) -> None:
    stack = make_swarm_stack(one_offs=True)
    stack.build("1.0.0")

    result = stack.deploy("1.0.0")

    assert result.returncode == 0, result.stderr
    for step in ("pre-deploy", "migrate"):
        assert f"✓ {step} (" in result.stderr
    # profiles: the jobs are not long-running services of the stack, and are removed after.
    names = {s.name for s in stack.client.services.list()}
    assert f"{stack.project}_web" in names
    assert not {f"{stack.project}_backup", f"{stack.project}_migrate"} & names
    log = stack.client.containers.run(
        stack.base_image,
        ["cat", "/data/log"],
        volumes={f"{stack.project}_data": {"bind": "/data", "mode": "ro"}},
        labels=stack.label.labels,
        remove=True,
    )
    assert log.decode() == "backup\nmigrate 1.0.0\n"
    [record] = stack.history()
    assert record["migrated"] is True
    assert record["backup"].startswith("relkit-")
