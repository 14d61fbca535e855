"""Bump rules: the table of the issue, node-semver's inc for pre-releases, and properties."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relkit.errors import UsageError, VersionError
from relkit.version import PRE_LABELS, parse
from relkit.version.bump import bump, bump_to
from tests.version.strategies import labelled_semver_texts, pep440_texts, semver_texts

MANY = settings(max_examples=1000, deadline=None)

SEMVER_RULES = [
    # plain parts on a final release
    ("1.3.2", "major", None, "2.0.0"),
    ("1.3.2", "minor", None, "1.4.0"),
    ("1.3.2", "patch", None, "1.3.3"),
    ("0.9.9", "major", None, "1.0.0"),
    ("1.3.2+build.7", "patch", None, "1.3.3"),
    # --pre starts a pre-release of the next version (premajor/preminor/prepatch)
    ("1.3.2", "minor", "rc", "1.4.0-rc.1"),
    ("1.3.2", "major", "alpha", "2.0.0-alpha.1"),
    ("1.3.2", "patch", "beta", "1.3.3-beta.1"),
    ("1.4.0-rc.2", "minor", "rc", "1.5.0-rc.1"),
    # pre
    ("1.4.0-rc.1", "pre", None, "1.4.0-rc.2"),
    ("1.4.0-rc.1", "pre", "rc", "1.4.0-rc.2"),
    ("1.4.0-alpha.3", "pre", "beta", "1.4.0-beta.1"),
    ("1.4.0-alpha.3", "pre", "rc", "1.4.0-rc.1"),
    ("1.4.0-beta.9", "pre", None, "1.4.0-beta.10"),
    ("1.4.0-rc", "pre", None, "1.4.0-rc.1"),
    ("1.4.0-alpha.0", "pre", None, "1.4.0-alpha.1"),
    # release
    ("1.4.0-rc.2", "release", None, "1.4.0"),
    ("1.4.0-alpha.1+sha.1", "release", None, "1.4.0"),
    # major/minor/patch on a pre-release: node-semver's inc
    ("1.4.0-rc.2", "patch", None, "1.4.0"),
    ("1.4.1-rc.1", "patch", None, "1.4.1"),
    ("1.4.0-rc.2", "minor", None, "1.4.0"),
    ("1.4.1-rc.1", "minor", None, "1.5.0"),
    ("1.0.0-rc.1", "major", None, "1.0.0"),
    ("1.4.0-rc.1", "major", None, "2.0.0"),
    ("1.0.1-rc.1", "major", None, "2.0.0"),
    ("2.0.0-rc.1", "minor", None, "2.0.0"),
    ("1.0.0-x.7.z.92", "patch", None, "1.0.0"),
]


@pytest.mark.parametrize(("current", "part", "pre", "expected"), SEMVER_RULES)
def test_semver_rules(current: str, part: str, pre: str | None, expected: str) -> None:
    result = bump(parse(current), part, pre)
    assert str(result) == expected
    assert result.scheme == "semver"


PEP440_RULES = [
    ("1.3.2", "minor", None, "1.4.0"),
    ("1.3.2", "minor", "rc", "1.4.0rc1"),
    ("1.3.2", "major", "alpha", "2.0.0a1"),
    ("1.3.2", "patch", "beta", "1.3.3b1"),
    ("1.4.0rc1", "pre", None, "1.4.0rc2"),
    ("1.4.0a3", "pre", "beta", "1.4.0b1"),
    ("1.4.0b1", "pre", "rc", "1.4.0rc1"),
    ("1.4.0rc2", "release", None, "1.4.0"),
    ("1.4.0rc2", "patch", None, "1.4.0"),
    ("1.4.0rc2", "minor", None, "1.4.0"),
    ("1.4.1rc1", "minor", None, "1.5.0"),
    ("1.0.0rc1", "major", None, "1.0.0"),
    ("1!1.0.0", "major", None, "1!2.0.0"),
    ("1.4", "patch", None, "1.4.1"),
    ("1.0.0.post1", "patch", None, "1.0.1"),
    ("1.0.0.dev1", "patch", None, "1.0.0"),
    ("1.0.0rc1.dev2", "pre", None, "1.0.0rc2"),
    ("1.0.0rc1.dev2", "release", None, "1.0.0"),
    ("1.0.0+local.7", "minor", None, "1.1.0"),
    # four release components: finishing keeps them, or the result would sort lower
    ("1.2.3.4rc1", "release", None, "1.2.3.4"),
    ("1.2.3.4rc1", "pre", None, "1.2.3.4rc2"),
    ("1.2.3.4", "patch", None, "1.2.4"),
    # finishing the development release of a post-release gives that post-release
    ("1.0.0.post1.dev2", "release", None, "1.0.0.post1"),
    ("1.0.0.post1.dev2", "patch", None, "1.0.0.post1"),
]


@pytest.mark.parametrize(("current", "part", "pre", "expected"), PEP440_RULES)
def test_pep440_rules(current: str, part: str, pre: str | None, expected: str) -> None:
    before = parse(current, "pep440")
    result = bump(before, part, pre)
    assert str(result) == expected
    assert result.scheme == "pep440"
    assert result > before


@pytest.mark.parametrize(
    ("scheme", "current", "pre"),
    [
        ("semver", "1.4.0-rc.1", "alpha"),
        ("semver", "1.4.0-rc.1", "beta"),
        ("semver", "1.4.0-beta.2", "alpha"),
        ("pep440", "1.4.0rc1", "alpha"),
    ],
)
def test_pre_cannot_go_back(scheme: str, current: str, pre: str) -> None:
    with pytest.raises(VersionError) as info:
        bump(parse(current, scheme), "pre", pre)
    assert "cannot go back from" in info.value.message
    assert f"to {pre}" in info.value.message
    assert info.value.hint == "pre-releases advance alpha → beta → rc"


@pytest.mark.parametrize(
    ("scheme", "current", "pre", "command", "example"),
    [
        ("semver", "1.4.0", None, "relkit bump patch --pre rc", "1.4.1-rc.1"),
        ("semver", "1.4.0", "beta", "relkit bump patch --pre beta", "1.4.1-beta.1"),
        ("pep440", "1.4.0", None, "relkit bump patch --pre rc", "1.4.1rc1"),
    ],
)
def test_pre_on_final_release_says_what_to_type(
    scheme: str, current: str, pre: str | None, command: str, example: str
) -> None:
    with pytest.raises(VersionError) as info:
        bump(parse(current, scheme), "pre", pre)
    assert info.value.message == f"{current} is a final release, so it has no pre-release to bump"
    assert f"'{command}' (→ {example})" in str(info.value.hint)


@pytest.mark.parametrize(("scheme", "current"), [("semver", "1.4.0"), ("pep440", "1.4.0.post2")])
def test_release_of_a_final_release_is_an_error(scheme: str, current: str) -> None:
    with pytest.raises(VersionError) as info:
        bump(parse(current, scheme), "release")
    assert "is already a final release" in info.value.message
    assert "'bump patch'" in str(info.value.hint)


@pytest.mark.parametrize(
    ("scheme", "current", "pre", "reason"),
    [
        ("semver", "1.4.0-rc.1.2", None, "not of the form LABEL.N"),
        (
            "semver",
            "1.4.0-dev.1",
            "beta",
            "label 'dev' of 1.4.0-dev.1 is not one of alpha, beta, rc",
        ),
        ("pep440", "1.4.0.dev1", None, "is a development release"),
    ],
)
def test_pre_of_an_unknown_shape_points_to_to(
    scheme: str, current: str, pre: str | None, reason: str
) -> None:
    with pytest.raises(VersionError) as info:
        bump(parse(current, scheme), "pre", pre)
    assert reason in info.value.message
    assert info.value.hint == "give the next version explicitly with --to"


def test_an_unknown_label_on_the_same_shape_still_counts_up() -> None:
    assert str(bump(parse("1.4.0-dev.1"), "pre")) == "1.4.0-dev.2"


@pytest.mark.parametrize(("part", "pre"), [("minor", "gamma"), ("pre", "RC"), ("tiny", None)])
def test_unknown_part_or_label_is_a_usage_error(part: str, pre: str | None) -> None:
    with pytest.raises(UsageError) as info:
        bump(parse("1.4.0-rc.1"), part, pre)
    assert info.value.exit_code == 2


@pytest.mark.parametrize(
    ("current", "target", "ok"),
    [
        ("1.3.2", "1.3.3", True),
        ("1.3.2", "1.4.0-rc.1", True),
        ("1.4.0-rc.1", "1.4.0", True),
        ("1.3.2", "1.3.2", False),
        ("1.3.2", "1.3.2+build", False),
        ("1.3.2", "1.3.1", False),
        ("1.3.2", "1.3.2-rc.1", False),
    ],
)
def test_bump_to_needs_a_greater_version(current: str, target: str, ok: bool) -> None:
    if ok:
        assert bump_to(parse(current), parse(target)) == parse(target)
    else:
        with pytest.raises(VersionError, match=re.escape(f"{target} is not greater than")):
            bump_to(parse(current), parse(target))


# --- properties -------------------------------------------------------------------------

LABELS = st.sampled_from([None, *PRE_LABELS])


def _check_every_part(current: str, scheme: str, label: str | None) -> None:
    """Every part that applies gives a greater version; the others are refused."""
    version = parse(current, scheme)
    for part in ("major", "minor", "patch"):
        result = bump(version, part, label)
        assert result > version, (current, part, label, str(result))
        if label is not None:
            assert result.pre == (label, 1)
    if version.is_prerelease:
        release = bump(version, "release")
        assert release > version
        assert not release.is_prerelease
    else:
        with pytest.raises(VersionError):
            bump(version, "release")
    try:
        current_pre = version.pre
    except VersionError:
        with pytest.raises(VersionError):
            bump(version, "pre", label)
        return
    going_back = (
        current_pre is not None
        and label is not None
        and label != current_pre[0]
        and (
            current_pre[0] not in PRE_LABELS
            or PRE_LABELS.index(label) < PRE_LABELS.index(current_pre[0])
        )
    )
    if current_pre is None or going_back:
        with pytest.raises(VersionError):
            bump(version, "pre", label)
    else:
        result = bump(version, "pre", label)
        assert result > version
        assert result.release == version.release


@MANY
@given(labelled_semver_texts(), LABELS)
def test_semver_bump_strictly_increases(current: str, label: str | None) -> None:
    _check_every_part(current, "semver", label)


@MANY
@given(semver_texts(), LABELS)
def test_semver_bump_of_any_prerelease_shape(current: str, label: str | None) -> None:
    _check_every_part(current, "semver", label)


@MANY
@given(pep440_texts(), LABELS)
def test_pep440_bump_strictly_increases(current: str, label: str | None) -> None:
    _check_every_part(current, "pep440", label)
