"""``insert_blocks_outline``: when it gives an outline, it agrees with ``parse`` of the text."""

from __future__ import annotations

import random

import pytest

from relkit.changelog.edit import insert_blocks, insert_blocks_outline
from relkit.changelog.generate import Proposals, release_block
from relkit.changelog.model import Changelog, Release, parse
from relkit.version import parse as parse_version

HEADER = "# Changelog\n\nIntro.\n\n"
BASES = {
    "fresh": HEADER + "## [Unreleased]\n",
    "fresh, no newline": HEADER + "## [Unreleased]",
    "no unreleased": HEADER + "## [0.5.0] - 2020-01-01\n\n- old\n",
    "entries and links": HEADER + "## [Unreleased]\n\n### Added\n\n- x\n  more\n\n"
    "## [0.5.0] - 2020-01-01\n\n### Fixed\n\n- y\n\n## [0.1.0] - 2019-01-01\n- z\n"
    "[Unreleased]: https://h/o/r/compare/v0.5.0...HEAD\n[0.5.0]: https://h/o/r/x\n",
    "crlf": (HEADER + "## [Unreleased]\n\n## [0.5.0] - 2020-01-01\n\n- old\n").replace(
        "\n", "\r\n"
    ),
    "code in a release": HEADER + "## [Unreleased]\n\n## [0.5.0] - 2020-01-01\n\n- a\n\n"
    "  ```\n  ## [9.9.9]\n  ```\n",
    "unreleased second": HEADER + "## [0.9.0] - 2020-01-01\n\n## [Unreleased]\n\n- u\n",
}


def order(label: str) -> object:
    return parse_version(label)


def blocks_for(labels: list[str], rng: random.Random) -> list[tuple[str, list[str]]]:
    blocks = []
    for label in labels:
        found = Proposals()
        for _ in range(rng.randint(0, 4)):
            section = rng.choice(["Added", "Fixed", "Changed", "Security"])
            text = rng.choice(["plain", "**BREAKING** big", "two\nlines", "with\n\nblank"])
            found.add(section, f"{text} <!-- relkit:{rng.randrange(16**12):012x} -->")
        blocks.append((label, release_block(f"## [{label}] - 2021-02-03", found)))
    return blocks


def same(outline: Changelog, parsed: Changelog) -> None:
    assert outline.lines == parsed.lines
    assert outline.links == parsed.links
    assert outline.title_line == parsed.title_line
    assert outline.unreleased == parsed.unreleased
    assert [_shape(r) for r in outline.releases] == [_shape(r) for r in parsed.releases]


def _shape(r: Release) -> tuple[object, ...]:
    return (r.line, r.heading, r.version, r.date, r.yanked, r.bracketed)


LABELS = [["1.0.0"], ["2.0.0", "1.0.0", "0.7.0", "0.3.0"], ["0.5.0"], ["1.0.0", "0.5.0"]]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("labels", LABELS, ids=",".join)
@pytest.mark.parametrize("name", list(BASES), ids=str)
def test_outline_agrees_with_parse(name: str, labels: list[str], seed: int) -> None:
    doc = parse(BASES[name])
    blocks = blocks_for(labels, random.Random(seed))
    text, outline = insert_blocks_outline(doc, blocks, order)
    assert text == insert_blocks(doc, blocks, order)
    if outline is not None:
        same(outline, parse(text))


def test_outline_given_for_a_fresh_history() -> None:
    doc = parse(BASES["entries and links"])
    blocks = blocks_for(["2.0.0", "1.0.0", "0.3.0"], random.Random(1))
    text, outline = insert_blocks_outline(doc, blocks, order)
    assert outline is not None
    same(outline, parse(text))


@pytest.mark.parametrize(
    "name, labels",
    [("entries and links", ["0.5.0"]), ("unreleased second", ["1.0.0"])],
)
def test_no_outline_when_not_certain(name: str, labels: list[str]) -> None:
    doc = parse(BASES[name])
    assert insert_blocks_outline(doc, blocks_for(labels, random.Random(0)), order)[1] is None


def test_no_outline_with_a_code_block_in_an_entry() -> None:
    found = Proposals()
    found.add("Changed", "**BREAKING** x\n```\n## [3.0.0]")
    blocks = [("1.0.0", release_block("## [1.0.0] - 2021-01-01", found))]
    doc = parse(BASES["fresh"])
    assert insert_blocks_outline(doc, blocks, order)[1] is None
