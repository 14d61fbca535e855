"""The changelog model: byte-exact round trips, headings in the wild, keepachangelog as oracle."""

from __future__ import annotations

import keepachangelog
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relkit.changelog.edit import add_entries, release_unreleased
from relkit.changelog.links import Forge
from relkit.changelog.model import ChangelogSyntaxError, parse, parse_heading

SAMPLE = """# Changelog

Intro text with a [link].

## [Unreleased]

### Added

- first entry
  continued here@@
- second entry
  - nested bullet
  - another nested

  ```python
  code = "## [9.9.9] not a heading"
  ```

Free text in Unreleased.

## [1.2.0] - 2026-01-31 [YANKED]

### Fixed

* star bullet

## v1.1.0 (2025-12-01)

### Security

- fixed a hole

[link]: https://example.com
[Unreleased]: https://github.com/acme/api/compare/v1.2.0...HEAD
[1.2.0]: https://github.com/acme/api/compare/v1.1.0...v1.2.0
""".replace("@@", "  ")  # trailing whitespace that must survive


def test_structure_of_a_rich_changelog() -> None:
    doc = parse(SAMPLE)
    assert str(doc) == SAMPLE
    unreleased, yanked, old = doc.releases
    assert unreleased.version is None
    added = unreleased.section("Added")
    assert added is not None
    assert [e.text.split("\n")[0] for e in added.entries] == ["first entry", "second entry"]
    assert "nested bullet" in added.entries[1].text
    assert "## [9.9.9]" in added.entries[1].text
    assert added.free_text == (18,)  # 0-based: line 19
    assert (yanked.version, yanked.date, yanked.yanked) == ("1.2.0", "2026-01-31", True)
    assert (old.version, old.date, old.canonical) == (
        "1.1.0",
        "2025-12-01",
        "## [1.1.0] - 2025-12-01",
    )
    assert [link.label for link in doc.links] == ["link", "Unreleased", "1.2.0"]


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("## [Unreleased]", (None, None, False, True)),
        ("## unreleased", (None, None, False, False)),
        ("## [1.2.0] - 2026-01-31", ("1.2.0", "2026-01-31", False, True)),
        ("## 1.2.0 (2026-01-31)", ("1.2.0", "2026-01-31", False, False)),
        ("## v1.2.0 - 2026-01-31", ("1.2.0", "2026-01-31", False, False)),
        ("## [1.2.0-rc.1]", ("1.2.0-rc.1", None, False, True)),
        ("## [v2.0.0] – 2026-02-01 [YANKED]", ("2.0.0", "2026-02-01", True, True)),
        ("## Release notes", None),
    ],
)
def test_headings_in_the_wild(heading: str, expected: object) -> None:
    assert parse_heading(heading) == expected


def test_crlf_and_trailing_whitespace_survive_an_edit() -> None:
    text = SAMPLE.replace("\n", "\r\n")
    doc = parse(text)
    assert str(doc) == text
    new = add_entries(doc, {"Fixed": ["a fix"]})
    assert "### Fixed\r\n\r\n- a fix\r\n\r\nFree text" not in new  # Fixed goes after Added
    assert new.count("\n") == new.count("\r\n")
    assert "continued here  \r\n" in new
    removed = new.replace("### Fixed\r\n\r\n- a fix\r\n\r\n", "", 1)
    assert removed == text


def test_edits_touch_only_their_lines() -> None:
    new = add_entries(parse(SAMPLE), {"Added": ["third entry"]})
    assert new == SAMPLE.replace("  ```\n\nFree", "  ```\n- third entry\n\nFree", 1)


def test_breaking_entries_go_first_and_sections_in_order() -> None:
    text = "# Changelog\n\n## [Unreleased]\n\n### Fixed\n\n- old fix\n"
    new = add_entries(parse(text), {"Fixed": ["**BREAKING** big", "small"], "Added": ["feat"]})
    assert new == (
        "# Changelog\n\n## [Unreleased]\n\n### Added\n\n- feat\n\n"
        "### Fixed\n\n- **BREAKING** big\n- old fix\n- small\n"
    )


def test_unreleased_is_created_above_the_first_release() -> None:
    text = "# Changelog\n\n## [1.0.0] - 2026-01-01\n\n### Added\n\n- x\n"
    new = add_entries(parse(text), {"Security": ["patched"]})
    assert new == (
        "# Changelog\n\n## [Unreleased]\n\n### Security\n\n- patched\n\n"
        "## [1.0.0] - 2026-01-01\n\n### Added\n\n- x\n"
    )


def test_release_rewrites_links_for_each_forge() -> None:
    doc = parse(SAMPLE)
    for kind, unreleased, version in [
        ("github", "/compare/v1.3.0...HEAD", "/compare/v1.2.0...v1.3.0"),
        ("gitlab", "/-/compare/v1.3.0...HEAD", "/-/compare/v1.2.0...v1.3.0"),
        ("gitea", "/compare/v1.3.0...HEAD", "/compare/v1.2.0...v1.3.0"),
        ("bitbucket", "/branches/compare/HEAD%0Dv1.3.0", "/branches/compare/v1.3.0%0Dv1.2.0"),
    ]:
        forge = Forge(kind, "https://host/acme/api")
        new = release_unreleased(doc, "1.3.0", "2026-03-01", forge=forge, tag_for="v{}".format)
        assert f"[Unreleased]: https://host/acme/api{unreleased}\n" in new
        assert f"[1.3.0]: https://host/acme/api{version}\n" in new
        assert "## [Unreleased]\n\n## [1.3.0] - 2026-03-01\n\n### Added\n" in new


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("# Changelog\n\n## Release notes\n", 3),
        ("# Changelog\n\n### Added\n", 3),
        ("# A\n# B\n", 2),
        ("# C\n\n## [Unreleased]\n\n```\ncode\n", 5),
    ],
)
def test_errors_name_the_line(text: str, line: int) -> None:
    with pytest.raises(ChangelogSyntaxError) as info:
        parse(text, "CHANGELOG.md")
    assert info.value.line == line
    assert info.value.message.startswith(f"CHANGELOG.md:{line}: ")


_pieces = st.sampled_from(
    [
        "# Changelog",
        "## [Unreleased]",
        "## [1.0.0] - 2026-01-01",
        "## 2.0.0 (2026-02-02)",
        "## v3.0.0",
        "## nonsense",
        "### Added",
        "### Fixed",
        "- entry",
        "* entry",
        "  more",
        "  - nested",
        "```",
        "~~~",
        "  ```",
        "[1.0.0]: https://x/y",
        "",
        " ",
        "\t",
        "text",
        "é ü 漢字",
        "## [Unreleased]  ",
        "#",
        "##",
        "###",
    ]
)
_line = st.one_of(_pieces, st.text(max_size=20).filter(lambda s: "\n" not in s))


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(st.tuples(_line, st.sampled_from(["\n", "\r\n", "\r\n", "  \n"])), max_size=25),
    last=st.booleans(),
)
def test_random_texts_round_trip_or_name_the_line(lines: list[tuple[str, str]], last: bool) -> None:
    text = "".join(content + end for content, end in lines)
    if last and lines:
        text = text.rstrip("\n")
    try:
        doc = parse(text)
    except ChangelogSyntaxError as exc:
        assert 1 <= exc.line <= text.count("\n") + 1
        assert f":{exc.line}: " in exc.message
        return
    assert str(doc) == text


_version = st.tuples(st.integers(0, 20), st.integers(0, 20), st.integers(0, 20))
_entry = (
    st.text(
        alphabet=st.characters(whitelist_categories=("L", "N"), whitelist_characters=" .,"),
        min_size=1,
        max_size=30,
    )
    .map(str.strip)
    .filter(bool)
)


@settings(max_examples=100)
@given(
    releases=st.lists(
        st.tuples(
            _version,
            st.dictionaries(
                st.sampled_from(["Added", "Fixed", "Removed"]),
                st.lists(_entry, min_size=1, max_size=4),
                min_size=1,
            ),
        ),
        max_size=5,
        unique_by=lambda r: r[0],
    )
)
def test_keepachangelog_agrees_on_well_formed_files(releases: list) -> None:
    releases = sorted(releases, key=lambda r: r[0], reverse=True)
    out = ["# Changelog", "", "## [Unreleased]", ""]
    for (major, minor, patch), sections in releases:
        out += [f"## [{major}.{minor}.{patch}] - 2026-01-0{1 + patch % 9}", ""]
        for name, entries in sections.items():
            out += [f"### {name}", "", *(f"- {e}" for e in entries), ""]
    text = "\n".join(out) + "\n"
    doc = parse(text)
    assert str(doc) == text
    oracle = keepachangelog.to_dict(text.splitlines(keepends=True))
    mine = {}
    for release in doc.released:
        entry = {"metadata": {"version": release.version, "release_date": release.date}}
        for section in release.sections:
            entry[section.name.lower()] = [e.text for e in section.entries]
        mine[release.version] = entry
    for value in oracle.values():
        value["metadata"].pop("semantic_version", None)
    assert mine == oracle
