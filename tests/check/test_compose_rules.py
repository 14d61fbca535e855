"""The production-readiness rules, on a deliberately bad compose file and on the example stack."""

from __future__ import annotations

from pathlib import Path

import pytest

from relkit.check.compose_model import merge_files
from relkit.check.compose_rules import RULES, ImageFacts, check_services, with_defaults
from relkit.check.findings import ERROR, WARNING, Finding

HERE = Path(__file__).parent
BAD = HERE / "bad" / "docker-compose.yml"
BAD_PROD = HERE / "bad" / "docker-compose.prod.yml"
STACK = HERE.parent.parent / "examples" / "stack"


def line(path: Path, marker: str) -> int:
    """The 1-based line of *path* that carries ``#marker``."""
    lines = path.read_text().splitlines()
    matches = [n for n, text in enumerate(lines, 1) if text.rstrip().endswith(f"#{marker}")]
    assert len(matches) == 1, marker
    return matches[0]


def found(findings: list[Finding]) -> set[tuple[str, str, str, int | None]]:
    return {(f.rule, f.severity, f.file.name if f.file else "", f.line) for f in findings}


def test_every_rule_fires_on_the_bad_file_at_its_line() -> None:
    findings = check_services(merge_files([BAD]), one_off=set(), pinned=set())
    b = BAD.name
    assert found(findings) == {
        ("healthcheck", ERROR, b, line(BAD, "web")),
        ("memory-limit", ERROR, b, line(BAD, "web")),
        ("cpu-limit", WARNING, b, line(BAD, "web")),
        ("log-rotation", ERROR, b, line(BAD, "web")),
        ("restart-policy", ERROR, b, line(BAD, "web")),
        ("non-root", ERROR, b, line(BAD, "root-user")),
        ("image-tag", ERROR, b, line(BAD, "untagged")),
        ("inline-secret", ERROR, b, line(BAD, "inline-secret")),
        ("docker-socket", ERROR, b, line(BAD, "socket")),
        ("privileged", ERROR, b, line(BAD, "privileged")),
        ("healthcheck", ERROR, b, line(BAD, "hc-disabled")),
        ("restart-policy", ERROR, b, line(BAD, "restart-no")),
        ("log-rotation", ERROR, b, line(BAD, "logging")),
        ("image-tag", ERROR, b, line(BAD, "latest")),
        ("non-root", WARNING, b, line(BAD, "worker")),
        ("non-root", WARNING, b, line(BAD, "cache")),
        ("log-rotation", WARNING, b, line(BAD, "cache") + 2),
    }
    assert {f.rule for f in findings} == set(RULES)


def test_messages_name_the_service_and_the_problem() -> None:
    findings = check_services(merge_files([BAD]), one_off=set(), pinned=set())
    messages = {
        f.message for f in findings if f.rule in ("image-tag", "inline-secret", "log-rotation")
    }
    assert "service 'web': image 'nginx' has no tag (means latest)" in messages
    assert (
        "service 'worker': image 'registry.example.com/acme/worker:latest' uses the latest tag"
        in messages
    )
    assert "service 'worker': json-file logging without max-file" in messages
    assert any(m.startswith("service 'web': DB_PASSWORD has a literal value") for m in messages)


def test_merged_files_locate_each_finding_in_the_file_that_set_the_value() -> None:
    findings = check_services(merge_files([BAD, BAD_PROD]), one_off=set(), pinned=set())
    secrets = {(f.file.name, f.line) for f in findings if f.rule == "inline-secret" and f.file}
    # The prod file replaced web's literal password and added one to cache (list form).
    assert secrets == {(BAD_PROD.name, line(BAD_PROD, "list-secret"))}


def test_one_off_and_profile_services_need_no_healthcheck_or_restart() -> None:
    findings = check_services(merge_files([BAD]), one_off={"web"}, pinned=set())
    web = {f.rule for f in findings if "'web'" in f.message}
    assert "healthcheck" not in web and "restart-policy" not in web
    assert "memory-limit" in web  # limits apply to one-off jobs too


def test_relkit_pinned_services_may_use_any_tag() -> None:
    findings = check_services(merge_files([BAD]), one_off=set(), pinned={"web", "worker"})
    assert not [f for f in findings if f.rule == "image-tag"]


def test_swarm_restarts_by_default() -> None:
    findings = check_services(merge_files([BAD]), one_off=set(), pinned=set(), swarm=True)
    restart = [f for f in findings if f.rule == "restart-policy"]
    assert [(f.line, f.message) for f in restart] == [
        (line(BAD, "restart-no"), "service 'worker': restart: 'no' on a long-running service")
    ]


def test_the_image_config_answers_for_user_and_healthcheck() -> None:
    def inspect(ref: str) -> ImageFacts | None:
        return {
            "registry.example.com/acme/worker:latest": ImageFacts(user="app", healthcheck=True),
            "redis:7": ImageFacts(user="", healthcheck=False),
        }.get(ref)

    findings = check_services(merge_files([BAD]), one_off=set(), pinned=set(), inspect=inspect)
    non_root = {(f.severity, f.line, f.message) for f in findings if f.rule == "non-root"}
    assert non_root == {
        (ERROR, line(BAD, "root-user"), "service 'web': runs as root (user: root)"),
        (
            ERROR,
            line(BAD, "cache"),
            "service 'cache': runs as root: no user: and image redis:7 sets no USER",
        ),
    }


def test_example_stack_production_passes_without_findings() -> None:
    merged = merge_files([STACK / "docker-compose.yml", STACK / "docker-compose.prod.yml"])
    findings = check_services(
        merged, one_off={"migrate", "backup"}, pinned={"api", "migrate", "backup"}
    )
    assert findings == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("postgres:16", "postgres:16"),
        ("${DB_IMAGE:-postgres:16}", "postgres:16"),
        ("${DB_IMAGE-postgres:16}", "postgres:16"),
        ("${DB_IMAGE}", None),
        ("$DB_IMAGE", None),
        ("${DB_IMAGE:?set it}", None),
        ("a$$b", "a$b"),
        ("${REG:-r.example}/api:${TAG:-1.0}", "r.example/api:1.0"),
    ],
)
def test_with_defaults(value: str, expected: str | None) -> None:
    assert with_defaults(value) == expected


def test_example_stack_config_production_has_no_finding() -> None:
    from relkit.check.preflight import check_compose
    from relkit.config import load_config

    config = load_config(STACK)
    findings, detail = check_compose(config, config.environment("production"), None)
    assert findings == []
    assert detail == "5 services in docker-compose.yml + docker-compose.prod.yml"
