"""PEP 440 versions: parsing, normalised text and ordering, checked against packaging."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from packaging.version import Version as PackagingVersion

from relkit.errors import ConfigError, VersionError
from relkit.version import parse
from relkit.version.pep440 import Pep440Version
from tests.version.strategies import pep440_texts

MANY = settings(max_examples=1000, deadline=None)


@pytest.mark.parametrize(
    ("text", "normal", "release", "pre", "is_prerelease"),
    [
        ("1.4.0", "1.4.0", (1, 4, 0), None, False),
        ("1.4.0rc1", "1.4.0rc1", (1, 4, 0), ("rc", 1), True),
        ("1.4.0-rc.1", "1.4.0rc1", (1, 4, 0), ("rc", 1), True),
        ("1.4.0a2", "1.4.0a2", (1, 4, 0), ("alpha", 2), True),
        ("1.4.0alpha2", "1.4.0a2", (1, 4, 0), ("alpha", 2), True),
        ("1.4.0.beta3", "1.4.0b3", (1, 4, 0), ("beta", 3), True),
        ("1.4.0c1", "1.4.0rc1", (1, 4, 0), ("rc", 1), True),
        ("v1.4", "1.4", (1, 4, 0), None, False),
        ("2", "2", (2, 0, 0), None, False),
        ("1!2.0.0", "1!2.0.0", (2, 0, 0), None, False),
        ("1.0.0.post1", "1.0.0.post1", (1, 0, 0), None, False),
        ("1.0.0-1", "1.0.0.post1", (1, 0, 0), None, False),
        ("1.0.0rc1.post2.dev3", "1.0.0rc1.post2.dev3", (1, 0, 0), ("rc", 1), True),
        ("1.0.0+Ubuntu-1", "1.0.0+ubuntu.1", (1, 0, 0), None, False),
        ("1.2.3.4", "1.2.3.4", (1, 2, 3), None, False),
    ],
)
def test_parse_and_normalise(
    text: str,
    normal: str,
    release: tuple[int, int, int],
    pre: tuple[str, int] | None,
    is_prerelease: bool,
) -> None:
    version = parse(text, "pep440")
    assert isinstance(version, Pep440Version)
    assert str(version) == normal
    assert version.release == release
    assert version.pre == pre
    assert version.is_prerelease is is_prerelease
    assert version == parse(normal, "pep440")


@pytest.mark.parametrize(
    "text", ["1.4.0-beta.x", "1..0", "one", "1.0.0+", "1.0.0-rc.1+a+b", "1.0_0!"]
)
def test_invalid_text_is_a_version_error(text: str) -> None:
    with pytest.raises(VersionError) as info:
        parse(text, "pep440")
    assert f"invalid version {text!r}: not a PEP 440 version" in str(info.value)
    assert "1.4.0rc1" in str(info.value)  # the hint shows the accepted forms


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_text_is_a_version_error(text: str) -> None:
    with pytest.raises(VersionError, match="empty version"):
        parse(text, "pep440")


def test_development_release_has_no_label_for_bumping() -> None:
    version = parse("1.0.0.dev3", "pep440")
    assert version.is_prerelease
    with pytest.raises(VersionError, match=r"1\.0\.0\.dev3 is a development release"):
        _ = version.pre


def test_unknown_scheme_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown version scheme 'calver'"):
        parse("1.0.0", "calver")


def test_schemes_do_not_mix() -> None:
    assert parse("1.0.0", "pep440") != parse("1.0.0", "semver")
    with pytest.raises(TypeError):
        _ = parse("1.0.0", "pep440") < parse("2.0.0", "semver")


def test_equal_spellings_are_one_set_member() -> None:
    spellings = ["1.0rc1", "1.0.0rc1", "1.0.0-rc1", "1.0.0.rc.1", "1.0.0c1"]
    assert len({parse(s, "pep440") for s in spellings}) == 1


# --- properties -------------------------------------------------------------------------


@MANY
@given(pep440_texts())
def test_text_round_trips(text: str) -> None:
    version = parse(text, "pep440")
    assert str(version) == str(PackagingVersion(text))
    assert parse(str(version), "pep440") == version
    assert str(parse(str(version), "pep440")) == str(version)


@MANY
@given(pep440_texts(), pep440_texts())
def test_ordering_and_hash_agree_with_packaging(a: str, b: str) -> None:
    ours_a, ours_b = parse(a, "pep440"), parse(b, "pep440")
    theirs_a, theirs_b = PackagingVersion(a), PackagingVersion(b)
    assert (ours_a < ours_b) is (theirs_a < theirs_b)
    assert (ours_a == ours_b) is (theirs_a == theirs_b)
    assert (ours_a > ours_b) is (theirs_a > theirs_b)
    if ours_a == ours_b:
        assert hash(ours_a) == hash(ours_b)


@MANY
@given(pep440_texts())
def test_prerelease_sorts_below_its_release(text: str) -> None:
    version = parse(text, "pep440")
    theirs = PackagingVersion(text)
    if theirs.pre is not None:
        # 1!2.0rc1.post2.dev3+x < 1!2.0
        assert version < parse(theirs.base_version, "pep440")
    if theirs.dev is not None:
        # 2.0.post2.dev3 < 2.0.post2
        assert version < parse(re.sub(r"\.dev\d+", "", text), "pep440")
    assert version.is_prerelease is (theirs.pre is not None or theirs.dev is not None)
