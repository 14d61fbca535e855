"""The swarm driver against a real single-node swarm, the real registry and real processes.

Fixtures: tests/deploy/swarm_stack.py (the swarm is initialised when the engine
is not a manager yet, and never left when it already was). The web service
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
from tests.deploy.conftest import ENV, UNHEALTHY, wait_until
from tests.deploy.swarm_stack import (  # noqa: F401 (fixtures)
    WORKER_BROKEN,
    SwarmStack,
    make_swarm_stack,
    swarm_manager,
)

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
    assert (record["kind"], record["version"], record["outcome"]) == ("deploy", "1.0.0", "succeeded")
    assert record["namespace"] == stack.project
    assert record["images"] == {stack.image: pinned}
    assert set(record["durations"]) == {"lock", "rollout", "health", "smoke"}
    configs = stack.client.api.configs(
        filters={"label": f"org.relkit.record.namespace={stack.project}"}
    )
    assert len(configs) == 1  # older versions of the record were removed
