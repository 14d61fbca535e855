"""Pure parts of the swarm driver: stack files, update policy, the host-port hazard, convergence."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from relkit.deploy.compose import StepFailed
from relkit.deploy.composefile import load
from relkit.deploy.stack import StackCLI
from relkit.deploy.stackfile import (
    health_window,
    override_document,
    plan_update,
    sanitize,
    seconds,
)
from relkit.deploy.swarm_health import Baseline, verdict
from relkit.docker.swarm import NodeState, ServiceState, TaskState
from relkit.docker.swarm_state import MAX_NAME, lock_config_name, record_config_name


def node(name: str, role: str = "worker", ready: bool = True, **labels: str) -> NodeState:
    return NodeState(name, name, role, ready, dict(labels), {}, "linux", "x86_64")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1s", 1.0), ("1m30s", 90.0), ("500ms", 0.5), ("1.5s", 1.5), ("2h", 7200.0), (3, 3.0)],
)
def test_durations(text: object, expected: float) -> None:
    assert seconds(text) == expected


def test_a_bad_duration_is_an_error() -> None:
    with pytest.raises(ValueError, match="not a duration"):
        seconds("5 parsecs")


def test_health_window_from_compose_and_from_an_image() -> None:
    compose = {"test": ["CMD", "true"], "interval": "5s", "retries": 3, "start_period": "10s"}
    image = {"Test": ["CMD", "true"], "Interval": 1_000_000_000, "Retries": 2}
    assert health_window(compose) == 25.0
    assert health_window(image) == 2.0
    assert health_window({"test": ["CMD", "true"]}) == 90.0  # docker's defaults: 30s × 3
    assert health_window({"disable": True}) is None
    assert health_window({"test": ["NONE"]}) is None
    assert health_window(None) is None


def test_sanitize_drops_jobs_and_profiles_strips_compose_only_keys_and_fixes_paths(
    tmp_path: Path,
) -> None:
    base = {
        "name": "acme",
        "services": {
            "api": {
                "image": "api",
                "mem_limit": "256m",
                "cpus": 0.5,
                "depends_on": {"db": {"condition": "service_healthy"}},
                "env_file": [{"path": "api.env"}],
                "volumes": ["./conf:/conf:ro", "data:/data"],
            },
            "db": {"image": "postgres"},
            "migrate": {"image": "api", "profiles": ["jobs"], "depends_on": ["db"]},
            "backup": {"image": "backup"},
        },
        "configs": {"app": {"file": "app.conf"}},
    }
    prod = {"services": {"migrate": {"mem_limit": "1g"}, "api": {"pull_policy": "always"}}}

    stack = sanitize([base, prod], tmp_path, skip=["backup"])

    assert stack.dropped == ["backup", "migrate"]
    first, second = stack.documents
    assert "name" not in first
    assert set(first["services"]) == {"api", "db"}
    assert first["services"]["api"] == {
        "image": "api",
        "depends_on": ["db"],
        "env_file": [str(tmp_path / "api.env")],
        "volumes": [f"{tmp_path / 'conf'}:/conf:ro", "data:/data"],
    }
    assert first["configs"]["app"]["file"] == str(tmp_path / "app.conf")
    assert second["services"] == {"api": {}}
    assert stack.notes == [
        "api: ignored on swarm: mem_limit, cpus (swarm reads deploy:)",
        "api: ignored on swarm: pull_policy (swarm reads deploy:)",
    ]
    job = sanitize([base, prod], tmp_path, only="migrate")
    assert [set(d["services"]) for d in job.documents] == [{"migrate"}, {"migrate"}]
    assert "depends_on" not in job.documents[0]["services"]["migrate"]
    assert "profiles" not in job.documents[0]["services"]["migrate"]


def _web(replicas: int = 1, **deploy: object) -> dict[str, object]:
    return {
        "ports": [{"mode": "host", "target": 8080, "published": 8080, "protocol": "tcp"}],
        "deploy": {"replicas": replicas, **deploy},
    }


@pytest.mark.parametrize(
    ("service", "nodes", "order"),
    [
        (_web(1), [node("a")], "stop-first"),  # one node, one replica
        (_web(1), [node("a"), node("b")], "start-first"),  # a free node
        (_web(2), [node("a"), node("b")], "stop-first"),
        (_web(1), [node("a"), node("b", ready=False)], "stop-first"),  # b is down
        (
            _web(1, placement={"constraints": ["node.role == manager"]}),
            [node("a", "manager"), node("b"), node("c")],
            "stop-first",
        ),
        (
            _web(1, placement={"constraints": ["node.labels.zone != east"]}),
            [node("a", zone="east"), node("b"), node("c", zone="west")],
            "start-first",
        ),
        (_web(1, mode="global"), [node("a"), node("b")], "stop-first"),
        ({"ports": [{"target": 80, "published": 80}]}, [node("a")], "start-first"),  # ingress
        ({"deploy": {"update_config": {"order": "stop-first"}}}, [node("a")], "stop-first"),
    ],
)
def test_the_host_mode_port_hazard(
    service: dict[str, object], nodes: list[NodeState], order: str
) -> None:
    plan = plan_update("web", service, nodes)
    assert plan is not None
    assert plan.order == order
    warned = any("could never be placed" in w for w in plan.warnings)
    assert warned == ("ports" in service and order == "stop-first")


def test_monitor_covers_the_healthcheck_and_a_short_user_monitor_is_named() -> None:
    service = {
        "healthcheck": {"test": ["CMD", "true"], "interval": "5s", "retries": 3},
        "deploy": {"update_config": {"monitor": "3s"}},
    }
    plan = plan_update("api", service, [node("a")])
    assert plan is not None
    assert plan.monitor == 15.0
    assert plan.warnings == (
        "api: update_config.monitor 3s is shorter than the healthcheck needs to fail a task"
        " (start_period + interval × retries = 15s); relkit uses 15s so that a bad task is seen",
    )
    longer = plan_update("api", {**service, "deploy": {"update_config": {"monitor": "1m"}}}, [])
    assert longer is not None and (longer.monitor, longer.warnings) == (60.0, ())
    assert plan_update("job", {"deploy": {"mode": "replicated-job"}}, []) is None
    image_only = plan_update("w", {}, [node("a")], {"Interval": 4_000_000_000, "Retries": 2})
    assert image_only is not None and image_only.monitor == 8.0


def test_the_override_pins_images_and_sets_the_update_policy() -> None:
    plan = plan_update("api", {}, [node("a")])
    assert plan is not None
    document = override_document({"api": "r/api@sha256:ab"}, {"api": plan}, "3.8")
    policy = {"order": "start-first", "monitor": "5s"}
    assert document == {
        "version": "3.8",
        "services": {
            "api": {
                "image": "r/api@sha256:ab",
                "deploy": {
                    "update_config": {**policy, "failure_action": "rollback"},
                    "rollback_config": {**policy, "failure_action": "pause"},
                },
            }
        },
    }


def task(
    id: str, state: str = "running", image: str = "img@new", desired: str = "running"
) -> TaskState:
    return TaskState(id, 1, "n", state, desired, image, "", "", None, "")


def service(
    tasks: list[TaskState],
    update: str | None = None,
    started: str | None = None,
    image: str = "img@new",
    replicas: int = 1,
) -> ServiceState:
    return ServiceState(
        "id", "s_web", "web", image, "replicated", replicas, update, started, "msg", None, True,
        tuple(tasks),
    )  # fmt: skip


def test_convergence_verdicts() -> None:
    pins = {"web": "img@new"}
    none: dict[str, Baseline] = {}
    assert verdict([service([task("a")])], ["web"], none, pins) == []
    assert verdict([], ["web"], none, pins) == ["web: no service yet"]
    assert verdict([service([task("a", "starting")])], ["web"], none, pins) == [
        "web: 0/1 running, starting"
    ]
    updating = service([task("a"), task("b", image="img@old")], "updating", "t1")
    assert verdict([updating], ["web"], none, pins) == ["web: update in progress (1/1 running)"]
    done = service([task("a"), task("b", "shutdown", "img@old", "shutdown")], "completed", "t1")
    assert verdict([done], ["web"], none, pins) == []


def test_a_fresh_swarm_rollback_fails_and_a_stale_one_does_not() -> None:
    rolled = service([task("a", image="img@old")], "rollback_completed", "t1", image="img@old")
    with pytest.raises(StepFailed, match="web: swarm update rollback completed: msg"):
        verdict([rolled], ["web"], {"web": Baseline("t0", frozenset())}, {"web": "img@old"})
    # The same status from before this rollout: an earlier update, not this one.
    stale = {"web": Baseline("t1", frozenset({"a"}))}
    assert verdict([rolled], ["web"], stale, {"web": "img@old"}) == []
    with pytest.raises(StepFailed, match="runs img@old, not img@new"):
        verdict([rolled], ["web"], stale, {"web": "img@new"})


def test_a_crash_looping_new_service_fails_after_three_tasks() -> None:
    failed = [task(str(i), "failed", desired="shutdown") for i in range(3)]
    with pytest.raises(StepFailed, match="web: 3 tasks failed"):
        verdict([service([*failed, task("x", "starting")])], ["web"], {}, {})
    old = {"web": Baseline(None, frozenset({"0", "1"}))}  # two failed before this rollout
    assert verdict([service([*failed, task("x", "starting")])], ["web"], old, {}) == [
        "web: 0/1 running, starting"
    ]


def test_config_names_fit_swarm_limits() -> None:
    long = "x" * 80
    assert lock_config_name("acme") == "relkit-lock-acme"
    assert len(lock_config_name(long)) <= MAX_NAME
    assert lock_config_name(long) != lock_config_name(long + "y")
    name = record_config_name(long, "20250101120000000-1.0.0+build.7", 3)
    assert len(name) <= MAX_NAME and name.endswith("-00003")


@pytest.mark.skipif(shutil.which("docker") is None, reason="needs the docker CLI (no engine)")
def test_the_example_stack_is_a_valid_swarm_stack(tmp_path: Path) -> None:
    import yaml

    root = Path(__file__).resolve().parents[2] / "examples" / "stack"
    documents = [load(root / "docker-compose.yml"), load(root / "docker-compose.prod.yml")]
    cli = StackCLI(root)

    def merged(stack: list[dict[str, object]], tag: str) -> dict[str, object]:
        paths = []
        for index, document in enumerate(stack):
            path = tmp_path / f"{tag}-{index}.yml"
            path.write_text(yaml.safe_dump(document))
            paths.append(path)
        return cli.config(paths, {"POSTGRES_PASSWORD": "example"})

    stack = sanitize(documents, root, skip=["backup", "migrate"])
    services = merged(stack.documents, "stack")["services"]
    assert isinstance(services, dict) and set(services) == {"api", "db"}
    assert services["api"]["deploy"]["resources"]["limits"]["cpus"] == "0.5"
    for job in ("migrate", "backup"):
        only = sanitize(documents, root, only=job)
        assert set(merged(only.documents, job)["services"]) == {job}  # type: ignore[arg-type]
