"""``build_all`` composes a skeleton and fills it from the spool: the same text as the whole.

The reference here composes the document with every release section whole
(:func:`compose` with full blocks), from releases computed the plain way for a
straight history: a commit belongs to the nearest tag at or above it.
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from relkit.changelog.generate import Seen, TagInfo, Tally, entry_for, propose, release_block
from relkit.changelog.links import forge_from_remote
from relkit.changelog.model import parse
from relkit.changelog.rebuild import build_all, compose
from relkit.files import FileEdit
from relkit.version import parse as parse_version

HEADER = "# Changelog\n\nIntro.\n\n"
BASES = [
    HEADER + "## [Unreleased]\n",
    HEADER + "## [Unreleased]",
    HEADER + "## [0.0.5] - 2020-01-01\n\n- old <!-- relkit:0123456789ab -->\n",
    HEADER + "## [Unreleased]\n\n### Added\n\n- x\n  more\n\n"
    "## [0.0.5] - 2020-01-01\n\n### Fixed\n\n- y\n\n## [0.0.1] - 2019-01-01\n- z\n"
    "[Unreleased]: https://h/o/r/compare/v0.0.5...HEAD\n[0.0.5]: https://h/o/r/x\n",
    (HEADER + "## [Unreleased]\n\n## [0.0.5] - 2020-01-01\n\n- old\n").replace("\n", "\r\n"),
    HEADER + "## [Unreleased]\n\n## [0.0.5] - 2020-01-01\n\n- a\n\n  ```\n  ## [9.9.9]\n  ```\n",
    HEADER + "## [9.0.0] - 2020-01-01\n\n## [Unreleased]\n\n- u\n",
    HEADER + "## [Unreleased]\n\n## [1.1.0] - 2020-01-01\n\n- written by hand\n"
    "\n## [1.1.0] - 2020-01-01\n\n- twice\n",
]
MESSAGES = [
    "feat: a feature",
    "fix(api): a fix",
    "feat!: big change\n\nBREAKING CHANGE: everything moved",
    "perf: faster\n\nwith a body\n\nand two paragraphs",
    "fix: shows code\n\nBREAKING CHANGE: now\n```\nrelkit run\n```",
    "docs: not listed",
    "WIP not conventional",
    "fix(security): escape",
    "chore: old flag\n\nDeprecated: --old",
    "feat: a [link](x) and `code`",
]
FORGE = forge_from_remote("git@github.com:acme/api.git")


def order(label: str) -> object:
    return parse_version(label)


def history(rng: random.Random) -> tuple[list[list[str]], dict[str, TagInfo]]:
    """A straight history, HEAD first, with tags that grow with time."""
    count = rng.randint(0, 25)
    shas = [hashlib.sha1(f"{rng.random()}".encode()).hexdigest() for _ in range(count)]
    tagged = sorted(rng.sample(range(count), k=rng.randint(0, min(count, 6))))
    versions = {index: f"1.{len(tagged) - n}.0" for n, index in enumerate(tagged)}
    tags = {}
    records = []
    for index, sha in enumerate(shas):
        refs = ""
        if index in versions:
            name = f"v{versions[index]}"
            tags[name] = TagInfo(versions[index], "2026-02-0" + str(1 + index % 9), sha)
            refs = f"tag: {name}"
        parent = shas[index + 1] if index + 1 < count else ""
        records.append([sha, parent, refs, rng.choice(MESSAGES)])
    return records, tags


def reference(
    text: str, records: list[list[str]], tags: dict[str, TagInfo], forge: bool
) -> tuple[str, Tally]:
    doc = parse(text)
    by_sha = {info.commit: info for info in tags.values()}
    groups: dict[str, list[tuple[str, str]]] = {}
    current = None
    for sha, _, _, message in records:
        current = by_sha.get(sha, current)
        groups.setdefault(current.label if current else "", []).append((sha, message))
    tally = Tally()
    seen = Seen(doc)
    unreleased = propose(groups.pop("", []), seen, tally)
    blocks = []
    for info in sorted(tags.values(), key=lambda info: order(info.label), reverse=True):
        commits = groups.get(info.label, [])
        found = propose(commits, Seen(None), tally)
        # Entries of commits the changelog has already count as present, not listed.
        present = sum(
            1
            for sha, message in commits
            if seen.has_commit(sha) and isinstance(entry_for(sha, message), tuple)
        )
        tally.listed -= present
        tally.duplicates += present
        blocks.append((info.label, release_block(f"## [{info.label}] - {info.date}", found)))
    composed = compose(
        doc, blocks, order, unreleased.sections, FORGE if forge else None, lambda v: f"v{v}"
    )
    return composed, tally


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**32), base=st.sampled_from(BASES), forge=st.booleans())
def test_build_all_is_the_whole_composition(seed: int, base: str, forge: bool) -> None:
    records, tags = history(random.Random(seed))
    expected, tally = reference(base, records, tags, forge)

    got, got_tally = build_all(
        parse(base),
        iter(records),
        tags,
        order,
        force=True,
        forge=FORGE if forge else None,
        tag_for=lambda v: f"v{v}",
    )

    assert str(got) == expected
    assert got_tally == tally
    # Written, compared and diffed a part at a time: the same as the whole text.
    spliced = FileEdit(Path("CHANGELOG.md"), "CHANGELOG.md", base, got)
    whole = FileEdit(Path("CHANGELOG.md"), "CHANGELOG.md", base, expected)
    assert spliced.changes == whole.changes
    assert spliced.diff() == whole.diff()


def test_two_tags_on_one_commit_make_one_release_of_the_newer() -> None:
    records = [
        ["b" * 40, "a" * 40, "tag: v1.1.0, tag: v1.0.0", "feat: x"],
        ["a" * 40, "", "", "fix: y"],
    ]
    tags = {
        "v1.0.0": TagInfo("1.0.0", "2026-01-01", "b" * 40),
        "v1.1.0": TagInfo("1.1.0", "2026-01-01", "b" * 40),
    }

    built, _ = build_all(parse(BASES[0]), iter(records), tags, order)
    text = str(built)

    assert "## [1.1.0] - 2026-01-01\n\n### Added\n\n- x" in text
    assert "### Fixed\n\n- y" in text
    assert "## [1.0.0]" not in text  # the newest tag on a commit takes it
