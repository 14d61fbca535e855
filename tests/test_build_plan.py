"""The build plan: tags, Docker-safe versions, build date, source URL, labels and args."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relkit.build_plan import (
    OCI,
    build_date,
    docker_tag,
    image_tags,
    image_title,
    plan_images,
    source_url,
)
from relkit.config import ImageConfig
from relkit.errors import ConfigError
from relkit.version import parse

SHA = "0123456789abcdef0123456789abcdef01234567"
DOCKER_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")


@pytest.mark.parametrize(
    ("version", "scheme", "tags"),
    [
        ("1.4.2", "semver", ["1.4.2", "1.4", "1", "latest", "sha-0123456"]),
        ("0.3.0", "semver", ["0.3.0", "0.3", "0", "latest", "sha-0123456"]),
        ("2.0.0-rc.1", "semver", ["2.0.0-rc.1", "sha-0123456"]),
        ("2.0.0-alpha.0", "semver", ["2.0.0-alpha.0", "sha-0123456"]),
        ("1.4.2+build.7", "semver", ["1.4.2_build.7", "1.4", "1", "latest", "sha-0123456"]),
        ("2.0.0-rc.1+exp.sha.5114f85", "semver", ["2.0.0-rc.1_exp.sha.5114f85", "sha-0123456"]),
        ("1.4.0", "pep440", ["1.4.0", "1.4", "1", "latest", "sha-0123456"]),
        ("1.4.0rc1", "pep440", ["1.4.0rc1", "sha-0123456"]),
        ("1.4.0.dev2", "pep440", ["1.4.0.dev2", "sha-0123456"]),
        ("1.4.0.post1", "pep440", ["1.4.0.post1", "1.4", "1", "latest", "sha-0123456"]),
        ("1.4.0+local.3", "pep440", ["1.4.0_local.3", "1.4", "1", "latest", "sha-0123456"]),
    ],
)
def test_image_tags(version: str, scheme: str, tags: list[str]) -> None:
    assert list(image_tags(parse(version, scheme), SHA)) == tags


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("1.0.0", "1.0.0"),
        ("1.0.0+20240101", "1.0.0_20240101"),
        ("1!2.0.0", "1-2.0.0"),  # a PEP 440 epoch
        ("-x", "_x"),
    ],
)
def test_docker_tag(text: str, tag: str) -> None:
    assert docker_tag(text) == tag


_IDENT = st.from_regex(r"[0-9A-Za-z-]{1,8}", fullmatch=True)
_SEMVER = st.builds(
    lambda core, pre, build: (
        "{}.{}.{}".format(*core)
        + (f"-{'.'.join(pre)}" if pre else "")
        + (f"+{'.'.join(build)}" if build else "")
    ),
    st.tuples(*[st.integers(0, 999)] * 3),
    st.lists(st.from_regex(r"[A-Za-z-][0-9A-Za-z-]{0,6}", fullmatch=True), max_size=3),
    st.lists(_IDENT, max_size=3),
)


@given(_SEMVER)
def test_semver_tags_are_valid_and_reversible(text: str) -> None:
    tag = docker_tag(text)
    assert DOCKER_TAG.fullmatch(tag)
    assert tag.replace("_", "+") == text  # SemVer has no '_': the mapping is reversible
    tags = image_tags(parse(text, "semver"), SHA)
    assert all(DOCKER_TAG.fullmatch(t) for t in tags)
    assert ("latest" in tags) == ("-" not in text.split("+")[0])


def test_build_date_from_source_date_epoch() -> None:
    assert build_date({"SOURCE_DATE_EPOCH": "1700000000"}) == "2023-11-14T22:13:20Z"


def test_build_date_now_is_utc() -> None:
    now = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert build_date({}, now) == "2024-05-06T07:08:09Z"


def test_build_date_rejects_a_bad_epoch() -> None:
    with pytest.raises(ConfigError, match="SOURCE_DATE_EPOCH"):
        build_date({"SOURCE_DATE_EPOCH": "yesterday"})


@pytest.mark.parametrize(
    ("remote", "url"),
    [
        ("git@github.com:acme/api.git", "https://github.com/acme/api"),
        ("https://github.com/acme/api.git", "https://github.com/acme/api"),
        ("https://x-access-token:s3cret@github.com/acme/api.git", "https://github.com/acme/api"),
        (
            "ssh://git@gitlab.example.com:2222/group/sub/api.git",
            "https://gitlab.example.com/group/sub/api",
        ),
        ("git://example.org/api", "https://example.org/api"),
        ("http://git.internal/acme/api.git", "http://git.internal/acme/api"),
        ("/srv/git/api.git", None),
        ("file:///srv/git/api.git", None),
        (None, None),
    ],
)
def test_source_url(remote: str | None, url: str | None) -> None:
    assert source_url(remote) == url


@pytest.mark.parametrize(
    ("name", "title"),
    [("registry.example.com:5000/acme/api", "api"), ("api", "api"), ("acme/api:1.0", "api")],
)
def test_image_title(name: str, title: str) -> None:
    assert image_title(name) == title


def test_plan_images_args_and_labels(tmp_path: Path) -> None:
    images = [ImageConfig(name="r.example/acme/api", context="svc", build_args={"A": "1"})]
    (plan,) = plan_images(
        images,
        root=tmp_path,
        version=parse("1.2.3-rc.1", "semver"),
        git_sha=SHA,
        created="2024-01-01T00:00:00Z",
        source="https://github.com/acme/api",
        extra_labels={"team": "payments"},
    )
    assert plan.context == tmp_path / "svc"
    assert plan.refs == ("r.example/acme/api:1.2.3-rc.1", "r.example/acme/api:sha-0123456")
    assert dict(plan.build_args) == {
        "A": "1",
        "VERSION": "1.2.3-rc.1",
        "GIT_SHA": SHA,
        "BUILD_DATE": "2024-01-01T00:00:00Z",
    }
    assert dict(plan.labels) == {
        f"{OCI}version": "1.2.3-rc.1",
        f"{OCI}revision": SHA,
        f"{OCI}created": "2024-01-01T00:00:00Z",
        f"{OCI}source": "https://github.com/acme/api",
        f"{OCI}title": "api",
        "team": "payments",
    }


def test_configured_build_args_cannot_override_version(tmp_path: Path) -> None:
    images = [ImageConfig(name="api", build_args={"VERSION": "0.0.0", "NODE_ENV": "production"})]
    (plan,) = plan_images(
        images,
        root=tmp_path,
        version=parse("1.0.0", "semver"),
        git_sha=SHA,
        created="2024-01-01T00:00:00Z",
        source=None,
    )
    assert plan.build_args["VERSION"] == "1.0.0"
    assert plan.build_args["NODE_ENV"] == "production"
    assert f"{OCI}source" not in plan.labels
