"""Generated and relkit's own workflows pass check-jsonschema and zizmor (offline)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from relkit.scaffold.detect import DetectedEnvironment, DetectedImage, Detection
from relkit.scaffold.plan import ACTIONS, plan

REPO = Path(__file__).resolve().parents[2]
SHA = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")
EXPRESSION = re.compile(r"\$\{\{")


def tool(name: str) -> str:
    path = shutil.which(name) or str(Path(sys.executable).parent / name)
    if not Path(path).exists():
        pytest.fail(f"{name} is not installed (pip install -e '.[test]')")
    return path


def detection(root: Path, language: str, environments: bool) -> Detection:
    envs = (
        DetectedEnvironment(
            "staging",
            ("compose.yaml", "compose.staging.yaml"),
            "a-staging",
            "migrate",
            ("backup",),
            False,
        ),
        DetectedEnvironment(
            "production",
            ("compose.yaml", "compose.prod.yaml"),
            "a-production",
            "migrate",
            ("backup",),
            True,
        ),
    )
    return Detection(
        root=root,
        project="app",
        language=language,
        scheme="semver",
        release_branch="main",
        version_files=("VERSION",),
        images=(DetectedImage("ghcr.io/acme/app", ".", "Dockerfile", ("app",)),),
        environments=envs if environments else (),
        registry="ghcr.io/acme/app",
        forge="github",
    )


def generate(root: Path, language: str, environments: bool) -> list[Path]:
    paths = []
    for item in plan(detection(root, language, environments), "github", "relkit==0.1.0"):
        if "workflows" in item.edit.relpath:
            item.edit.path.parent.mkdir(parents=True, exist_ok=True)
            item.edit.path.write_text(item.edit.new)
            paths.append(item.edit.path)
    return paths


def assert_passes_checks(paths: list[Path]) -> None:
    schema = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, paths)],
        capture_output=True,
        text=True,
    )
    assert schema.returncode == 0, schema.stdout + schema.stderr
    audit = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", "--format", "json", *map(str, paths)],
        capture_output=True,
        text=True,
    )
    findings = json.loads(audit.stdout)
    serious = [
        (f["ident"], f["determinations"]["severity"])
        for f in findings
        if f["determinations"]["severity"] not in ("Informational", "Low", "Unknown")
    ]
    assert serious == [], audit.stdout


def assert_hardened(path: Path) -> None:
    """Actions pinned by sha, permissions declared, no expression inside a run: script."""
    workflow = yaml.safe_load(path.read_text())
    assert workflow["permissions"] == {"contents": "read"}
    for job in workflow["jobs"].values():
        for step in job.get("steps", []):
            if "uses" in step:
                assert SHA.match(step["uses"]), step["uses"]
            if "run" in step:
                assert not EXPRESSION.search(step["run"]), step["run"]


@pytest.mark.parametrize("language", ["python", "node", "go", "rust"])
@pytest.mark.parametrize("environments", [True, False], ids=["deploy", "no-deploy"])
def test_generated_workflows_pass(tmp_path: Path, language: str, environments: bool) -> None:
    paths = generate(tmp_path, language, environments)
    names = sorted(p.name for p in paths)
    assert names == (
        ["ci.yml", "deploy.yml", "release.yml"] if environments else ["ci.yml", "release.yml"]
    )
    assert_passes_checks(paths)
    for path in paths:
        assert_hardened(path)


def test_deploy_workflow_shape(tmp_path: Path) -> None:
    generate(tmp_path, "python", True)
    deploy = yaml.safe_load((tmp_path / ".github/workflows/deploy.yml").read_text())
    jobs = deploy["jobs"]
    assert list(jobs) == ["staging", "production", "rollback"]
    assert jobs["production"]["needs"] == "staging"
    assert jobs["production"]["environment"] == "production"
    steps = [s["name"] for s in jobs["production"]["steps"][3:]]
    assert steps == [
        "Deploy (health gates, smoke tests, automatic rollback)",
        "Smoke tests",
        "Roll back",
    ]
    dispatch = deploy[True]["workflow_dispatch"]["inputs"]  # YAML 1.1 reads "on" as True
    assert set(dispatch) == {"operation", "environment", "version", "restore-db"}
    release = yaml.safe_load((tmp_path / ".github/workflows/release.yml").read_text())
    assert release["jobs"]["deploy"]["uses"] == "./.github/workflows/deploy.yml"
    run = "\n".join(s.get("run", "") for s in release["jobs"]["release"]["steps"])
    for command in (
        "relkit changelog check --strict",
        "relkit changelog notes",
        "relkit build --push",
        "gh release create",
        "--tag --dry-run",
    ):
        assert command in run


def test_relkits_own_workflows_pass() -> None:
    paths = sorted((REPO / ".github" / "workflows").glob("*.yml"))
    assert [p.name for p in paths] == ["ci.yml", "release.yml"]
    assert_passes_checks(paths)
    for path in paths:
        assert_hardened(path)
    assert "run: scripts/test" in (REPO / ".github/workflows/ci.yml").read_text()


def test_own_workflows_pin_the_same_actions_as_the_templates() -> None:
    pins = {a.split("  #")[0] for a in ACTIONS.values()}
    for path in (REPO / ".github" / "workflows").glob("*.yml"):
        for uses in re.findall(r"uses: (\S+)", path.read_text()):
            assert uses in pins, f"{path.name}: {uses}"
