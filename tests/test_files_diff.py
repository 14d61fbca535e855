"""``FileEdit.diff``: a unified diff that patches the old text into the new one."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from relkit.files import FileEdit

HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$")


def apply(old: str, diff: str) -> str:
    """Apply a unified diff of whole lines to *old*, checking every context line."""
    source = old.splitlines(keepends=True)
    out: list[str] = []
    at = 0  # lines of source consumed
    lines = diff.splitlines(keepends=True)[2:]
    i = 0
    while i < len(lines):
        match = HUNK.match(lines[i].rstrip("\n"))
        assert match, lines[i]
        start, length = int(match[1]), int(match[2] or 1)
        begin = start - 1 if length else start
        out += source[at:begin]
        at = begin
        i += 1
        while i < len(lines) and not lines[i].startswith("@@"):
            kind, text = lines[i][0], lines[i][1:]
            if kind in " -":
                assert source[at] == text, (source[at], text)
                at += 1
            if kind in " +":
                out.append(text)
            i += 1
    return "".join(out + source[at:])


LINES = st.lists(st.sampled_from(["a\n", "b\n", "\n", "## [1.0.0]\n", "- x\n"]), max_size=12)


@given(old=LINES, new=LINES)
def test_the_diff_patches_old_into_new(old: list[str], new: list[str]) -> None:
    edit = FileEdit(Path("f"), "f", "".join(old), "".join(new))
    if old == new:
        return
    assert apply("".join(old), edit.diff()) == "".join(new)


@given(old=LINES, at=st.integers(min_value=0), block=LINES.filter(bool))
def test_an_insertion_patches_old_into_new(old: list[str], at: int, block: list[str]) -> None:
    at %= len(old) + 1
    new = old[:at] + block + old[at:]
    edit = FileEdit(Path("f"), "f", "".join(old), "".join(new))
    assert apply("".join(old), edit.diff()) == "".join(new)


def test_an_insertion_into_distinct_lines_reads_as_difflib_writes_it() -> None:
    old = [f"line {n}\n" for n in range(10)]
    for at in (0, 1, 5, 9, 10):
        new = [*old[:at], "new 1\n", "new 2\n", *old[at:]]
        expected = "".join(difflib.unified_diff(old, new, "a/CHANGELOG.md", "b/CHANGELOG.md"))
        edit = FileEdit(Path("CHANGELOG.md"), "CHANGELOG.md", "".join(old), "".join(new))
        assert edit.diff() == expected


def test_a_new_file_is_one_hunk_from_dev_null() -> None:
    edit = FileEdit(Path("CHANGELOG.md"), "CHANGELOG.md", None, "# Changelog\n\nx")
    assert edit.diff() == (
        "--- /dev/null\n+++ b/CHANGELOG.md\n@@ -0,0 +1,3 @@\n+# Changelog\n+\n+x\n"
    )


def test_a_long_insertion_is_printed_in_pieces_that_add_up_to_difflibs_diff() -> None:
    old = ["# Changelog\n", "\n", "## [Unreleased]\n", "\n", "[Unreleased]: https://x/y\n"]
    block = [f"- entry number {n} with some words to make it longer\n" for n in range(20_000)]
    new = [*old[:4], *block, "\n", old[4]]
    edit = FileEdit(Path("CHANGELOG.md"), "CHANGELOG.md", "".join(old), "".join(new))

    chunks = list(edit.diff_chunks())

    assert len(chunks) > 10  # pieces of about 64 KiB, not one string of a megabyte
    expected = "".join(difflib.unified_diff(old, new, "a/CHANGELOG.md", "b/CHANGELOG.md"))
    assert "".join(chunks) == expected
