"""Conventional Commits: parsing messages and choosing the part a set of commits releases."""

from __future__ import annotations

import itertools

import pytest

from relkit.conventional import next_part, parse_message, release_part


@pytest.mark.parametrize(
    ("message", "type_", "scope", "description", "breaking"),
    [
        ("feat: add export", "feat", None, "add export", False),
        ("fix(api): handle empty body", "fix", "api", "handle empty body", False),
        ("feat(api)!: drop v1 endpoints", "feat", "api", "drop v1 endpoints", True),
        ("refactor!: rename everything", "refactor", None, "rename everything", True),
        ("Feat: capitalised type", "feat", None, "capitalised type", False),
        (
            "perf(core/db-pool): reuse connections",
            "perf",
            "core/db-pool",
            "reuse connections",
            False,
        ),
        ("chore(deps): bump x from 1.0 to 2.0", "chore", "deps", "bump x from 1.0 to 2.0", False),
        ("build-system: tabs\tinside", "build-system", None, "tabs\tinside", False),
        ("docs:\tthe tab counts as the space", "docs", None, "the tab counts as the space", False),
        ("fix: trailing newlines\n\n\n", "fix", None, "trailing newlines", False),
    ],
)
def test_header(
    message: str, type_: str, scope: str | None, description: str, breaking: bool
) -> None:
    commit = parse_message(message, sha="abc123")
    assert commit is not None
    assert (commit.type, commit.scope, commit.description, commit.breaking) == (
        type_,
        scope,
        description,
        breaking,
    )
    assert commit.sha == "abc123"


@pytest.mark.parametrize(
    "message",
    [
        "",
        "Update README",
        "Merge branch 'feature/x' into main",
        "feat:no space after the colon",
        "feat : space before the colon",
        "feat:",
        "feat: ",
        "(api): no type",
        "feat(api)(db): two scopes",
        "feat(api: unclosed scope",
        "1fix: type starts with a digit",
        "feat!!: two bangs",
    ],
)
def test_not_conventional(message: str) -> None:
    assert parse_message(message) is None


def test_body_and_footers() -> None:
    message = (
        "fix(parser): accept CRLF\n"
        "\n"
        "The first paragraph of the body.\n"
        "It has two lines.\n"
        "\n"
        "A second paragraph, with a colon: here.\n"
        "\n"
        "Reviewed-by: Ada Lovelace\n"
        "Refs #133\n"
    )
    commit = parse_message(message)
    assert commit is not None
    assert commit.body == (
        "The first paragraph of the body.\nIt has two lines.\n\n"
        "A second paragraph, with a colon: here."
    )
    assert commit.footers == (("Reviewed-by", "Ada Lovelace"), ("Refs", "133"))
    assert commit.footer("reviewed-by") == "Ada Lovelace"
    assert commit.footer("Signed-off-by") is None
    assert commit.breaking is False
    assert commit.breaking_note is None


@pytest.mark.parametrize("token", ["BREAKING CHANGE", "BREAKING-CHANGE"])
def test_breaking_change_footer(token: str) -> None:
    message = (
        f"feat(config): read relkit.toml\n\nSome body.\n\n{token}: the [tool] table moved\nRefs: #7"
    )
    commit = parse_message(message)
    assert commit is not None
    assert commit.breaking is True
    assert commit.breaking_note == "the [tool] table moved"
    assert commit.body == "Some body."
    assert commit.footers == ((token, "the [tool] table moved"), ("Refs", "#7"))


def test_breaking_change_footer_value_continues_on_following_lines() -> None:
    commit = parse_message("fix: x\n\nBREAKING CHANGE: first line\n  second line\nRefs: #1")
    assert commit is not None
    assert commit.breaking_note == "first line\n  second line"
    assert commit.footer("Refs") == "#1"


@pytest.mark.parametrize(
    "message",
    [
        "feat: x\n\nbreaking change: lower case is not the token",
        "feat: x\n\nThis is a BREAKING CHANGE: for nobody, in the body",
        "feat: x\n\nBREAKING CHANGE without a colon",
    ],
)
def test_not_breaking_without_the_exact_footer(message: str) -> None:
    commit = parse_message(message)
    assert commit is not None
    assert commit.breaking is False
    assert commit.breaking_note is None


def test_crlf_message() -> None:
    commit = parse_message(
        "feat(ui)!: new look\r\n\r\nBody line.\r\n\r\nBREAKING CHANGE: colours\r\n"
    )
    assert commit is not None
    assert (commit.type, commit.scope, commit.description) == ("feat", "ui", "new look")
    assert commit.body == "Body line."
    assert commit.breaking_note == "colours"


@pytest.mark.parametrize(
    ("message", "part"),
    [
        ("feat: a", "minor"),
        ("fix: a", "patch"),
        ("perf: a", "patch"),
        ("docs: a", None),
        ("chore(release): 1.0.0", None),
        ("refactor: a", None),
        ("revert: a", None),
        ("docs!: a", "major"),
        ("chore: a\n\nBREAKING-CHANGE: b", "major"),
        ("FIX: shouting", "patch"),
    ],
)
def test_release_part(message: str, part: str | None) -> None:
    commit = parse_message(message)
    assert commit is not None
    assert release_part(commit) == part


@pytest.mark.parametrize(
    ("messages", "zero_major", "expected"),
    [
        ([], False, (None, 0, 0)),
        (["docs: a", "chore: b", "Update README"], False, (None, 2, 1)),
        (["fix: a"], False, ("patch", 1, 0)),
        (["perf: a", "docs: b"], False, ("patch", 2, 0)),
        (["fix: a", "feat: b", "WIP"], False, ("minor", 2, 1)),
        (["feat: b", "fix!: c"], False, ("major", 2, 0)),
        (["fix: a", "chore: b\n\nBREAKING CHANGE: c"], False, ("major", 2, 0)),
        # 0.x: a breaking change bumps minor, the rest is unchanged
        (["feat!: b"], True, ("minor", 1, 0)),
        (["fix: a\n\nBREAKING CHANGE: c"], True, ("minor", 1, 0)),
        (["feat: a"], True, ("minor", 1, 0)),
        (["fix: a"], True, ("patch", 1, 0)),
        (["docs: a"], True, (None, 1, 0)),
    ],
)
def test_next_part(
    messages: list[str], zero_major: bool, expected: tuple[str | None, int, int]
) -> None:
    assert next_part(messages, zero_major=zero_major) == expected


def test_next_part_does_not_depend_on_order_and_reads_a_stream_once() -> None:
    messages = ["fix: a", "Merge pull request #1", "feat(x): b", "docs: c"]
    for order in itertools.permutations(messages):
        assert next_part(iter(order)) == ("minor", 3, 1)
