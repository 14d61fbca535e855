"""``relkit build`` against the real engine and the real registry.

Images are FROM the busybox fixture, so each build takes a second. Every image
relkit builds here carries the test's label (``--label``) and is removed with
it; every test pushes to its own repository of the registry.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from typer.testing import CliRunner

from relkit.build_plan import OCI
from relkit.build_record import cache_dir, find_build
from relkit.cli import app
from relkit.config import load_config
from relkit.docker.registry import ACCEPT
from relkit.errors import DockerError, RegistryUnavailable
from tests.conftest import GitRepo, git
from tests.docker_support import DockerLabel
from tests.web_image import free_port

pytestmark = pytest.mark.docker

DOCKERFILE = """\
ARG BASE=scratch
FROM ${BASE}
ARG VERSION
ARG GIT_SHA
ARG BUILD_DATE
ARG FLAVOUR
RUN echo "$VERSION $GIT_SHA $BUILD_DATE $FLAVOUR" > /build-info
CMD ["cat", "/build-info"]
"""


def make_project(
    make_repo: GitRepo, image: str, base: str, version: str = "1.4.2", dockerfile: str = DOCKERFILE
) -> Path:
    config = (
        f'[[images]]\nname = "{image}"\ncontext = "app"\n'
        f'build_args = {{ BASE = "{base}", FLAVOUR = "vanilla" }}\n'
    )
    repo = make_repo(
        {"VERSION": f"{version}\n", "relkit.toml": config, "app/Dockerfile": dockerfile},
        message="feat: the app",
    )
    git(repo, "remote", "add", "origin", "git@github.com:acme/app.git")
    return repo


def relkit(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def registry_manifest(registry: str, repository: str, reference: str) -> tuple[str, dict]:  # type: ignore[type-arg]
    request = urllib.request.Request(
        f"http://{registry}/v2/{repository}/manifests/{reference}", headers={"Accept": ACCEPT}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers["Docker-Content-Digest"], json.loads(response.read())


@pytest.fixture
def image_name(registry: str, docker_label: DockerLabel) -> Iterator[str]:
    """A repository of its own in the registry, whose manifests are deleted afterwards."""
    repository = f"relkit-test/build-{docker_label.value}"
    yield f"{registry}/{repository}"
    try:
        with urllib.request.urlopen(f"http://{registry}/v2/{repository}/tags/list") as response:
            tags = json.loads(response.read()).get("tags") or []
        for digest in {registry_manifest(registry, repository, tag)[0] for tag in tags}:
            url = f"http://{registry}/v2/{repository}/manifests/{digest}"
            urllib.request.urlopen(urllib.request.Request(url, method="DELETE")).close()
    except urllib.error.HTTPError:
        pass  # nothing pushed, or a registry without deletes: the storage is temporary


def test_build_push_tags_labels_and_digests(
    make_repo: GitRepo,
    docker_client: docker.DockerClient,
    docker_label: DockerLabel,
    busybox_image: str,
    registry: str,
    image_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo = make_project(make_repo, image_name, busybox_image)
    sha = git(repo, "rev-parse", "HEAD")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")

    code, out, err = relkit("build", "--push", "--json", "--label", docker_label.selector)
    assert code == 0, err
    result = json.loads(out)
    (built,) = result["images"]
    tags = ["1.4.2", "1.4", "1", "latest", f"sha-{sha[:7]}"]
    assert (result["version"], result["git_sha"], built["tags"]) == ("1.4.2", sha, tags)
    digest = built["digest"]
    assert built["ref"] == f"{image_name}@{digest}"

    # The engine: every tag on one image, with the labels and the build args baked in.
    image = docker_client.images.get(f"{image_name}:1.4.2")
    assert image.id == built["image_id"]
    assert sorted(image.tags) == sorted(f"{image_name}:{tag}" for tag in tags)
    labels = image.labels
    assert labels[f"{OCI}version"] == "1.4.2"
    assert labels[f"{OCI}revision"] == sha
    assert labels[f"{OCI}created"] == "2023-11-14T22:13:20Z"
    assert labels[f"{OCI}source"] == "https://github.com/acme/app"
    assert labels[f"{OCI}title"] == image_name.rsplit("/", 1)[1]
    output = docker_client.containers.run(image.id, remove=True, labels=docker_label.labels)
    assert output.decode().split() == ["1.4.2", sha, "2023-11-14T22:13:20Z", "vanilla"]

    # The registry: every tag resolves to the digest the push reported; its config is the image.
    repository = image_name.split("/", 1)[1]
    for tag in tags:
        tag_digest, manifest = registry_manifest(registry, repository, tag)
        assert tag_digest == digest, tag
        assert manifest["config"]["digest"] == image.id

    # A pull by digest, after every local tag is gone, gives the same image.
    docker_client.images.remove(image.id, force=True)
    pulled = docker_client.images.pull(f"{image_name}@{digest}")
    assert pulled.id == image.id
    assert f"{image_name}@{digest}" in pulled.attrs["RepoDigests"]

    # The record: cached locally, and found again from the registry alone.
    config = load_config(repo)
    cached = find_build(config, "1.4.2")
    assert cached.origin == "cache"
    directory = cache_dir(config)
    assert directory is not None and (directory / "1.4.2.json").is_file()
    shutil.rmtree(directory)
    remote = find_build(config, "1.4.2")
    assert remote.origin == "registry"
    for record in (cached, remote):
        found = record.image(image_name)
        assert (record.version, record.git_sha) == ("1.4.2", sha)
        assert (found.digest, found.image_id, found.tags) == (digest, image.id, tuple(tags))
        assert found.ref == f"{image_name}@{digest}"


def test_prerelease_gets_no_moving_tags(
    make_repo: GitRepo,
    docker_client: docker.DockerClient,
    docker_label: DockerLabel,
    busybox_image: str,
    registry: str,
    image_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo = make_project(make_repo, image_name, busybox_image, version="2.0.0-rc.1+exp.7")
    sha = git(repo, "rev-parse", "HEAD")
    outputs = repo.parent / "github-output"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    code, out, err = relkit("build", "--push", "--label", docker_label.selector)
    assert code == 0, err
    digest = out.strip().rsplit("@", 1)[1]
    assert out == f"{image_name}@{digest}\n"
    assert outputs.read_text() == (
        f"version=2.0.0-rc.1+exp.7\ndigest={digest}\nimages={image_name}@{digest}\n"
    )
    image = docker_client.images.get(f"{image_name}:2.0.0-rc.1_exp.7")
    assert sorted(image.tags) == sorted(
        [f"{image_name}:2.0.0-rc.1_exp.7", f"{image_name}:sha-{sha[:7]}"]
    )
    assert image.labels[f"{OCI}version"] == "2.0.0-rc.1+exp.7"
    record = find_build(load_config(repo), "2.0.0-rc.1+exp.7")
    assert record.image(image_name).digest == digest
    with pytest.raises(urllib.error.HTTPError) as info:
        registry_manifest(registry, image_name.split("/", 1)[1], "latest")
    assert info.value.code == 404


def test_find_build_of_a_version_never_pushed(
    make_repo: GitRepo, busybox_image: str, registry: str, image_name: str
) -> None:
    repo = make_project(make_repo, image_name, busybox_image)
    with pytest.raises(DockerError, match=r"has no relkit-test/build-.*:9\.9\.9") as info:
        find_build(load_config(repo), "9.9.9")
    assert info.value.exit_code == 1
    assert "relkit build --push" in str(info.value)


def test_failing_step_exits_1_with_the_step_and_the_engine_message(
    make_repo: GitRepo, docker_label: DockerLabel, busybox_image: str, image_name: str
) -> None:
    broken = DOCKERFILE.replace('CMD ["cat"', 'RUN echo "about to fail" && exit 3\nCMD ["cat"')
    make_project(make_repo, image_name, busybox_image, dockerfile=broken)
    code, out, err = relkit("build", "--label", docker_label.selector)
    assert code == 1
    assert out == ""
    assert "about to fail" in err  # the step's own output reached the log
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"error: building {image_name} failed at Step 8/")
    assert 'RUN echo "about to fail" && exit 3: ' in last
    assert "returned a non-zero code: 3" in last


def test_docker_unreachable_exits_69(
    make_repo: GitRepo, image_name: str, busybox_image: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_project(make_repo, image_name, busybox_image)
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
    code, out, err = relkit("build")
    assert (code, out) == (69, "")
    assert err.startswith("error: cannot reach the Docker engine at tcp://127.0.0.1:1")
    assert "DOCKER_HOST" in err


@pytest.fixture
def own_registry(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A second docker-registry, on a free port, that the test may stop."""
    binary = shutil.which("docker-registry")
    if binary is None:
        pytest.skip("docker-registry not installed")
    address = f"127.0.0.1:{free_port()}"
    config = tmp_path / "registry.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {tmp_path / 'storage'}\nhttp:\n  addr: {address}\n"
    )
    process = subprocess.Popen(
        [binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"http://{address}/v2/", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail(f"the second registry did not start on {address}")
                time.sleep(0.2)
        yield address, process
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_push_to_a_stopped_registry_exits_69(
    make_repo: GitRepo,
    docker_label: DockerLabel,
    busybox_image: str,
    own_registry: tuple[str, subprocess.Popen[bytes]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    address, process = own_registry
    name = f"{address}/relkit-test/stopped"
    repo = make_project(make_repo, name, busybox_image)
    code, out, err = relkit("build", "--push", "--label", docker_label.selector)
    assert code == 0, err
    assert out.startswith(f"{name}@sha256:")

    process.terminate()
    process.wait(timeout=10)
    (repo / "VERSION").write_text("1.4.3\n")
    git(repo, "commit", "-qam", "fix: more")
    secret = "pa55-word-never-shown"
    monkeypatch.setenv("RELKIT_REGISTRY_USER", "ci")
    monkeypatch.setenv("RELKIT_REGISTRY_PASSWORD", secret)
    code, out, err = relkit("build", "--push", "--label", docker_label.selector)
    assert (code, out) == (69, "")
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"error: pushing {name}:1.4.3 failed, the registry {address}")
    assert "connection refused" in last
    assert secret not in err

    # A deploy job on another machine, without the cache, gets the same exit code.
    cache = cache_dir(load_config(repo))
    assert cache is not None
    shutil.rmtree(cache)
    with pytest.raises(RegistryUnavailable) as info:
        find_build(load_config(repo), "1.4.2")
    assert info.value.exit_code == 69
