"""``relkit build`` without an engine: the plan, usage errors, the record cache, progress lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from relkit.build_record import BuildRecord, BuiltImage, find_build, load_cached, save_record
from relkit.cli import app
from relkit.cli.build_progress import PlainProgress
from relkit.config import load_config
from relkit.docker.auth import Credentials, credentials_from_env, mask
from relkit.docker.events import BuildOutput, BuildStep, LayerProgress, Pushed
from relkit.docker.registry import base_url, split_name
from relkit.errors import ConfigError, DockerError
from tests.conftest import GitRepo, git

CONFIG = """\
[[images]]
name = "registry.example.com/acme/api"
context = "api"
build_args = { NODE_ENV = "production" }

[[images]]
name = "registry.example.com/acme/worker"
"""


def relkit(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def project(make_repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    repo = make_repo({"VERSION": "1.4.2\n", "relkit.toml": CONFIG})
    git(repo, "remote", "add", "origin", "https://ci:t0ken@github.com/acme/api.git")
    return repo


def test_dry_run_prints_every_ref_and_builds_nothing(project: Path) -> None:
    sha = git(project, "rev-parse", "HEAD")
    code, out, err = relkit("build", "--dry-run", "--image", "registry.example.com/acme/api")
    assert code == 0
    refs = ["1.4.2", "1.4", "1", "latest", f"sha-{sha[:7]}"]
    assert out == "".join(f"registry.example.com/acme/api:{tag}\n" for tag in refs)
    assert f"would build registry.example.com/acme/api from {project / 'api'}" in err
    assert "  build arg NODE_ENV=production\n" in err
    assert "  label org.opencontainers.image.created=2023-11-14T22:13:20Z\n" in err
    assert "t0ken" not in err  # the remote's credentials never reach a label


def test_dry_run_json(project: Path) -> None:
    code, out, _ = relkit("build", "--dry-run", "--json", "--push", "--label", "team=payments")
    assert code == 0
    plan = json.loads(out)
    assert (plan["version"], plan["push"], plan["dry_run"]) == ("1.4.2", True, True)
    assert [image["name"] for image in plan["images"]] == [
        "registry.example.com/acme/api",
        "registry.example.com/acme/worker",
    ]
    labels = plan["images"][1]["labels"]
    assert labels["org.opencontainers.image.source"] == "https://github.com/acme/api"
    assert labels["team"] == "payments"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--image", "acme/nope"], 2, "error: no configured image named 'acme/nope'"),
        (["--label", "novalue"], 2, "error: --label 'novalue' is not KEY=VALUE"),
    ],
)
def test_usage_errors(project: Path, args: list[str], code: int, message: str) -> None:
    result = relkit("build", "--dry-run", *args)
    assert result[:2] == (code, "")
    assert result[2].startswith(message)


def test_no_images_configured(make_repo: GitRepo) -> None:
    make_repo({"VERSION": "1.0.0\n"})
    code, out, err = relkit("build", "--dry-run")
    assert (code, out) == (1, "")
    assert err.startswith("error: no images configured in ")


def test_no_commit_to_build_from(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "relkit.toml").write_text(CONFIG)
    (tmp_path / "VERSION").write_text("1.0.0\n")
    git(tmp_path, "init", "-q")
    monkeypatch.chdir(tmp_path)
    code, _, err = relkit("build", "--dry-run")
    assert code == 1
    assert "has no commit to build from" in err


def test_record_cache_round_trip_and_merge(project: Path) -> None:
    config = load_config(project)
    api = BuiltImage("registry.example.com/acme/api", ("1.4.2",), "sha256:aa", "sha256:11")
    worker = BuiltImage("registry.example.com/acme/worker", ("1.4.2",), "sha256:bb", "sha256:22")
    path = save_record(config, BuildRecord("1.4.2", "abc", "t", {api.name: api}))
    assert path is not None and path.parent.parts[-3:] == (".git", "relkit", "builds")
    save_record(config, BuildRecord("1.4.2", "abc", "t", {worker.name: worker}))
    cached = load_cached(config, "1.4.2")
    assert cached is not None
    assert dict(cached.images) == {api.name: api, worker.name: worker}
    found = find_build(config, "1.4.2", lookup=_no_registry)
    assert (found.origin, found.image(worker.name).ref) == (
        "cache",
        "registry.example.com/acme/worker@sha256:22",
    )


def _no_registry(name: str, tag: str) -> object:
    raise AssertionError(f"the registry was asked for {name}:{tag} although the cache has it")


def test_an_unpushed_image_has_no_ref() -> None:
    with pytest.raises(DockerError, match="never pushed"):
        _ = BuiltImage("acme/api", ("1.0.0",), "sha256:aa", None).ref


def test_plain_progress_prints_each_layer_status_once(capsys: pytest.CaptureFixture[str]) -> None:
    progress = PlainProgress()
    for event in (
        BuildStep("acme/api", "Step 1/2 : FROM scratch"),
        BuildOutput("acme/api", "hello"),
        LayerProgress("acme/api:1", "abc", "Pushing", 1, 10),
        LayerProgress("acme/api:1", "abc", "Pushing", 5, 10),
        LayerProgress("acme/api:1", "abc", "Pushed"),
        Pushed("acme/api:1", "sha256:ff"),
    ):
        progress(event)
    assert capsys.readouterr().err == (
        "acme/api: Step 1/2 : FROM scratch\n"
        "acme/api:   hello\n"
        "push acme/api:1: abc Pushing\n"
        "push acme/api:1: abc Pushed\n"
        "pushed acme/api:1 sha256:ff\n"
    )


def test_credentials_from_env_and_masking() -> None:
    assert credentials_from_env({}) is None
    found = credentials_from_env(
        {"RELKIT_REGISTRY_USER": "ci", "RELKIT_REGISTRY_PASSWORD": "hunter2"}
    )
    assert found == Credentials("ci", "hunter2")
    assert "hunter2" not in repr(found)
    assert mask("login ci:hunter2 failed", found.secrets) == "login ci:*** failed"
    with pytest.raises(ConfigError, match="RELKIT_REGISTRY_PASSWORD is not set"):
        credentials_from_env({"RELKIT_REGISTRY_USER": "ci"})


@pytest.mark.parametrize(
    ("name", "registry", "repository", "base"),
    [
        ("127.0.0.1:5000/acme/api", "127.0.0.1:5000", "acme/api", "http://127.0.0.1:5000"),
        ("localhost:5000/api", "localhost:5000", "api", "http://localhost:5000"),
        ("ghcr.io/acme/api", "ghcr.io", "acme/api", "https://ghcr.io"),
        ("acme/api", "docker.io", "acme/api", "https://registry-1.docker.io"),
        ("nginx", "docker.io", "library/nginx", "https://registry-1.docker.io"),
    ],
)
def test_registry_addresses(name: str, registry: str, repository: str, base: str) -> None:
    assert split_name(name) == (registry, repository)
    assert base_url(registry) == base


def test_the_cli_does_not_import_docker_or_rich_progress_at_start() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from relkit.cli import app; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('docker', 'requests')"
        " or m in ('relkit.docker.engine', 'rich.progress')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (0, "[]\n"), result.stderr


def test_rich_progress_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from rich.console import Console

    from relkit.cli import output
    from relkit.cli.build_progress import RichProgress

    screen = io.StringIO()
    monkeypatch.setattr(output, "_console", Console(file=screen, force_terminal=True, width=120))
    with RichProgress() as progress:
        progress(BuildStep("acme/api", "Step 1/2 : FROM scratch"))
        progress(BuildOutput("acme/api", "[bold]not markup[/bold]"))
        progress(LayerProgress("r/acme/api:1", "abcdef0123456789", "Pushing", 512, 1024))
        progress(LayerProgress("r/acme/api:1", "abcdef0123456789", "Pushed"))
        progress(Pushed("r/acme/api:1", "sha256:ff"))
    text = screen.getvalue()
    assert "acme/api: Step 1/2 : FROM scratch" in text
    assert "[bold]not markup[/bold]" in text  # engine output is printed verbatim
    assert "api abcdef012345 Pushed" in text
    assert "pushed r/acme/api:1 sha256:ff" in text


def test_uncommitted_changes_are_warned_about(project: Path) -> None:
    (project / "VERSION").write_text("1.4.3\n")
    code, out, err = relkit("build", "--dry-run")
    assert code == 0
    assert "registry.example.com/acme/api:1.4.3\n" in out
    assert err.startswith("warning: building with uncommitted changes (VERSION)")
