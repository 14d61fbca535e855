"""SemVer 2.0.0 parsing, precedence and hashing, checked against semver.org and python-semver."""

from __future__ import annotations

import itertools
import random

import pytest
import semver as python_semver
from hypothesis import given, settings
from hypothesis import strategies as st

from relkit.errors import VersionError
from relkit.version import SemVer, parse
from tests.version.strategies import semver_texts

MANY = settings(max_examples=1000, deadline=None)


@pytest.mark.parametrize(
    ("text", "release", "prerelease", "build"),
    [
        ("0.0.0", (0, 0, 0), (), ()),
        ("1.2.3", (1, 2, 3), (), ()),
        ("10.20.30", (10, 20, 30), (), ()),
        ("1.0.0-alpha", (1, 0, 0), ("alpha",), ()),
        ("1.0.0-alpha.1", (1, 0, 0), ("alpha", 1), ()),
        ("1.0.0-0.3.7", (1, 0, 0), (0, 3, 7), ()),
        ("1.0.0-x.7.z.92", (1, 0, 0), ("x", 7, "z", 92), ()),
        ("1.0.0-x-y-z.--", (1, 0, 0), ("x-y-z", "--"), ()),
        ("1.0.0-0A.is.legal", (1, 0, 0), ("0A", "is", "legal"), ()),
        ("1.0.0-alpha+001", (1, 0, 0), ("alpha",), ("001",)),
        ("1.0.0+20130313144700", (1, 0, 0), (), ("20130313144700",)),
        ("1.0.0-beta+exp.sha.5114f85", (1, 0, 0), ("beta",), ("exp", "sha", "5114f85")),
        ("1.0.0+21AF26D3----117B344092BD", (1, 0, 0), (), ("21AF26D3----117B344092BD",)),
        (
            "1.0.0+0.build.1-rc.10000aaa-kk-0.1",
            (1, 0, 0),
            (),
            ("0", "build", "1-rc", "10000aaa-kk-0", "1"),
        ),
        (
            "99999999999999999999999.999999999999999999.99999999999999999",
            (99999999999999999999999, 999999999999999999, 99999999999999999),
            (),
            (),
        ),
    ],
)
def test_parse_valid(
    text: str, release: tuple[int, int, int], prerelease: tuple[object, ...], build: tuple[str, ...]
) -> None:
    version = parse(text)
    assert isinstance(version, SemVer)
    assert version.release == release
    assert version.prerelease == prerelease
    assert version.build == build
    assert version.is_prerelease is bool(prerelease)
    assert str(version) == text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty version"),
        ("01.2.3", "major '01' has a leading zero"),
        ("1.02.3", "minor '02' has a leading zero"),
        ("1.2.03", "patch '03' has a leading zero"),
        ("1.2.3-01", "pre-release identifier '01' has a leading zero"),
        ("1.2.3-alpha.007", "pre-release identifier '007' has a leading zero"),
        ("1.2.3-", "empty pre-release identifier"),
        ("1.2.3-alpha..1", "empty pre-release identifier"),
        ("1.2.3-alpha.", "empty pre-release identifier"),
        ("1.2.3+", "empty build metadata identifier"),
        ("1.2.3+a..b", "empty build metadata identifier"),
        ("1.2.", "empty patch"),
        (".2.3", "empty major"),
        ("1.2.3-alpha_1", "character '_' in pre-release"),
        ("1.2.3-beta!", "character '!' in pre-release"),
        ("1.2.3-é", "character 'é' in pre-release"),
        ("1.2.3+build~1", "character '~' in build metadata"),
        ("1.2.3-alpha+b+c", "character '+' in build metadata"),
        ("v1.2.3", "has no 'v' prefix"),
        ("V1.2.3", "has no 'v' prefix"),
        ("1.2", "expected MAJOR.MINOR.PATCH"),
        ("1", "expected MAJOR.MINOR.PATCH"),
        ("1.2.3.4", "expected MAJOR.MINOR.PATCH"),
        ("1.a.3", "minor 'a' is not a number"),
        ("-1.2.3", "expected MAJOR.MINOR.PATCH"),
        ("1.2.x", "patch 'x' is not a number"),
        (" 1.2.3", "surrounding whitespace"),
        ("1.2.3\n", "surrounding whitespace"),
    ],
)
def test_parse_invalid_names_the_reason(text: str, reason: str) -> None:
    with pytest.raises(VersionError) as info:
        parse(text)
    assert reason in str(info.value)
    assert info.value.exit_code == 1


def test_v_prefix_error_says_what_to_write() -> None:
    with pytest.raises(VersionError) as info:
        parse("v1.2.3")
    assert info.value.hint is not None
    assert "'1.2.3'" in info.value.hint


# semver.org, section 11, example 4 (each one lower than the next).
SPEC_CHAIN = [
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
]
# Section 11, examples 2 and 3, plus numeric-before-alphanumeric identifiers.
OTHER_CHAINS = [
    ["1.0.0", "2.0.0", "2.1.0", "2.1.1"],
    ["1.0.0-alpha", "1.0.0"],
    ["1.0.0-1", "1.0.0-2", "1.0.0-10", "1.0.0--", "1.0.0-A", "1.0.0-a"],
    ["1.0.0-alpha.9", "1.0.0-alpha.10", "1.0.0-alpha.a", "1.0.0-alpha.a.0"],
    ["0.9.99", "0.10.0-0", "0.10.0", "1.0.0-0.0", "1.0.0"],
]


@pytest.mark.parametrize("chain", [SPEC_CHAIN, *OTHER_CHAINS], ids=lambda c: " < ".join(c))
def test_precedence_chain(chain: list[str]) -> None:
    versions = [parse(text) for text in chain]
    for (i, low), (j, high) in itertools.combinations(enumerate(versions), 2):
        assert i < j
        assert low < high, (low, high)
        assert low <= high
        assert high > low
        assert high >= low
        assert low != high
        assert not high < low
    shuffled = versions[:]
    random.Random(4).shuffle(shuffled)
    assert [str(v) for v in sorted(shuffled)] == chain


def test_build_metadata_kept_in_text_but_ignored_for_precedence() -> None:
    plain, one, other = parse("1.0.0"), parse("1.0.0+build.1"), parse("1.0.0+zzz")
    assert str(one) == "1.0.0+build.1"
    assert str(other) == "1.0.0+zzz"
    assert one == plain == other
    assert not one < other and not other < one
    assert one <= other and one >= other
    assert hash(one) == hash(plain) == hash(other)
    assert len({plain, one, other}) == 1
    assert parse("1.0.0-rc.1+b") < parse("1.0.0+a")


def test_equal_versions_hash_alike_and_different_ones_differ() -> None:
    table = {parse("1.2.3"): "a", parse("1.2.3-rc.1"): "b"}
    assert table[parse("1.2.3+meta")] == "a"
    assert table[parse("1.2.3-rc.1")] == "b"
    assert parse("1.2.3-rc.1") not in {parse("1.2.3"), parse("1.2.3-rc.01a")}


def test_not_comparable_with_other_schemes_or_text() -> None:
    assert parse("1.0.0") != parse("1.0.0", "pep440")
    assert parse("1.0.0") != "1.0.0"
    with pytest.raises(TypeError):
        _ = parse("1.0.0") < parse("2.0.0", "pep440")
    with pytest.raises(TypeError):
        _ = parse("1.0.0") < "2.0.0"  # type: ignore[operator]


@pytest.mark.parametrize(
    ("text", "pre"),
    [
        ("1.0.0", None),
        ("1.0.0-rc.1", ("rc", 1)),
        ("1.0.0-alpha", ("alpha", 0)),
        ("1.0.0-beta.0+build", ("beta", 0)),
    ],
)
def test_pre_label_and_number(text: str, pre: tuple[str, int] | None) -> None:
    assert parse(text).pre == pre


@pytest.mark.parametrize("text", ["1.0.0-1", "1.0.0-rc.1.2", "1.0.0-1.rc", "1.0.0-rc.beta"])
def test_pre_of_other_shapes_is_an_error_pointing_to_to(text: str) -> None:
    with pytest.raises(VersionError) as info:
        _ = parse(text).pre
    assert "not of the form LABEL.N" in str(info.value)
    assert "--to" in str(info.value)


# --- properties -------------------------------------------------------------------------


@MANY
@given(semver_texts())
def test_text_round_trips(text: str) -> None:
    version = parse(text)
    assert str(version) == text
    assert parse(str(version)) == version
    assert str(parse(str(version))) == text


@MANY
@given(semver_texts(), semver_texts())
def test_ordering_agrees_with_python_semver(a: str, b: str) -> None:
    ours = (parse(a) > parse(b)) - (parse(a) < parse(b))
    theirs = python_semver.Version.parse(a).compare(b)
    assert ours == theirs, (a, b)
    assert (parse(a) == parse(b)) is (theirs == 0)


@MANY
@given(semver_texts(), st.lists(st.text("abc0-", min_size=1, max_size=3), max_size=2))
def test_equal_means_equal_hash(text: str, build: list[str]) -> None:
    core = text.partition("+")[0]
    other = core + ("+" + ".".join(build) if build else "")
    assert parse(text) == parse(other)
    assert hash(parse(text)) == hash(parse(other))


@MANY
@given(semver_texts(build=False))
def test_prerelease_sorts_below_its_release(text: str) -> None:
    version = parse(text)
    release = parse("{}.{}.{}".format(*version.release))
    if version.is_prerelease:
        assert version < release
        assert release > version
    else:
        assert version == release
