"""``add_entries_and_links`` gives the text of ``add_entries`` then ``add_missing_links``.

It edits only the lines down to the release after Unreleased; every document
here is checked against the plain sequence (parse the whole text after each step).
"""

from __future__ import annotations

import pytest

from relkit.changelog.edit import add_entries, add_entries_and_links, add_missing_links
from relkit.changelog.links import Forge
from relkit.changelog.model import parse
from relkit.errors import ChangelogError

HEADER = "# Changelog\n\nIntro.\n\n"
FORGE = Forge("github", "https://github.com/acme/api")

DOCS = {
    "fresh, releases below": HEADER + "## [Unreleased]\n\n## [1.0.0] - 2026-01-01\n\n"
    "### Added\n\n- a <!-- relkit:0123456789ab -->\n",
    "no blank before the next release": HEADER + "## [Unreleased]\n### Fixed\n- x\n"
    "## [1.0.0] - 2026-01-01\n- loose\n",
    "unreleased with sections": HEADER + "## [Unreleased]\n\n### Added\n\n- one\n\n"
    "### Security\n\n- two\n\n## [1.0.0] - 2026-01-01\n\n### Fixed\n\n- b\n\n"
    "[Unreleased]: https://github.com/acme/api/compare/v1.0.0...HEAD\n",
    "links present, one missing": HEADER + "## [Unreleased]\n\n## [1.1.0] - 2026-02-01\n\n"
    "- c\n\n## [1.0.0] - 2026-01-01\n\n- d\n\n"
    "[1.0.0]: https://github.com/acme/api/releases/tag/v1.0.0\n",
    "links without final newline": HEADER + "## [Unreleased]\n\n## [1.0.0] - 2026-01-01\n\n"
    "- d\n\n[1.0.0]: https://github.com/acme/api/releases/tag/v1.0.0",
    "link above the next release": HEADER + "## [Unreleased]\n\n- e\n\n"
    "[Unreleased]: https://x/y\n## [1.0.0] - 2026-01-01\n",
    "crlf": (
        HEADER + "## [Unreleased]\r\n\r\n### Added\r\n\r\n- f\r\n\r\n"
        "## [1.0.0] - 2026-01-01\r\n\r\n- g\r\n"
    ).replace("\n\n", "\r\n\r\n"),
    "unreleased last": HEADER + "## [1.0.0] - 2026-01-01\n\n- h\n\n## [Unreleased]\n\n- i\n",
    "only unreleased": HEADER + "## [Unreleased]\n",
    "heading last, no newline": HEADER + "## [Unreleased]\n\n## [1.0.0] - 2026-01-01",
    "code block below": HEADER + "## [Unreleased]\n\n## [1.0.0] - 2026-01-01\n\n"
    "- j\n\n  ```\n  ## [0.9.0]\n  ```\n\n## [0.9.0] - 2025-12-01\n",
}

ADDITIONS = {
    "one section": {"Added": ["new thing <!-- relkit:aaaaaaaaaaaa -->"]},
    "several": {
        "Fixed": ["fix one", "fix two\nwith a second line"],
        "Added": ["**BREAKING** big", "small"],
        "Security": ["sec"],
        "Deprecated": ["old"],
    },
    "an open code block": {"Changed": ["**BREAKING** x\n```\ncode"]},
    "a closed code block": {"Changed": ["**BREAKING** x\n```\n## [2.0.0]\n```"]},
}


def reference(text: str, additions: dict[str, list[str]], forge: Forge | None) -> str:
    doc = parse(text)
    out = add_entries(doc, additions) if additions else str(doc)
    if forge is not None:
        out = add_missing_links(parse(out), forge, lambda v: f"v{v}")
    return out


@pytest.mark.parametrize("forge", [None, FORGE], ids=["no forge", "forge"])
@pytest.mark.parametrize("additions", list(ADDITIONS), ids=str)
@pytest.mark.parametrize("name", list(DOCS), ids=str)
def test_same_text_as_the_plain_sequence(name: str, additions: str, forge: Forge | None) -> None:
    text = DOCS[name]
    try:
        expected: str | type[ChangelogError] = reference(text, ADDITIONS[additions], forge)
    except ChangelogError:
        expected = ChangelogError
    try:
        got: str | type[ChangelogError] = add_entries_and_links(
            parse(text), ADDITIONS[additions], forge, lambda v: f"v{v}"
        )
    except ChangelogError:
        got = ChangelogError
    assert got == expected


def test_no_additions_only_links() -> None:
    text = DOCS["fresh, releases below"]
    assert add_entries_and_links(parse(text), {}, FORGE, lambda v: f"v{v}") == reference(
        text, {}, FORGE
    )
    assert add_entries_and_links(parse(text), {}, None, str) == text


@pytest.mark.parametrize("name", ["fresh, releases below", "unreleased with sections", "crlf"])
def test_the_window_is_used_where_it_can_be(name: str) -> None:
    from relkit.changelog.edit import _window_edit

    doc = parse(DOCS[name])
    assert _window_edit(doc, ADDITIONS["several"], FORGE, lambda v: f"v{v}") is not None
