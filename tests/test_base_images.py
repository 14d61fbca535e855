"""The pure parts of the Docker test plugin: apt sources parsing, cache tags."""

from __future__ import annotations

import pytest

from tests.base_images import content_tag, debian_mirror_from_sources

DEB822 = """\
Types: deb
# http://snapshot.example/archive/debian/20250520T000000Z
URIs: http://mirror.example/debian/
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
"""

ONE_LINE = """\
# deb http://commented.example/debian bookworm main
deb-src http://src.example/debian bookworm main
deb [arch=amd64 signed-by=/k.gpg] http://security.example/debian-security bookworm-security main
deb [arch=amd64] http://one-line.example/debian bookworm main contrib
"""


@pytest.mark.parametrize(
    ("text", "suite", "expected"),
    [
        (DEB822, "bookworm", "http://mirror.example/debian"),
        (DEB822, "bookworm-security", "http://mirror.example/debian-security"),
        (DEB822, "trixie", None),
        (ONE_LINE, "bookworm", "http://one-line.example/debian"),
        ("Types: deb-src\nURIs: http://src.example/debian\nSuites: bookworm\n", "bookworm", None),
        ("", "bookworm", None),
        (
            "Enabled: no\nTypes: deb\nURIs: http://off.example/\nSuites: bookworm\n",
            "bookworm",
            None,
        ),
    ],
)
def test_debian_mirror_from_sources(text: str, suite: str, expected: str | None) -> None:
    assert debian_mirror_from_sources(text, suite) == expected


def test_content_tag_depends_on_every_part_and_its_boundaries() -> None:
    tag = content_tag("bookworm", "minbase", "python3")
    assert tag == content_tag("bookworm", "minbase", "python3")
    assert len(tag) == 16 and int(tag, 16) >= 0
    assert tag != content_tag("bookworm", "minbase", "python3", "postgresql")
    assert content_tag("ab", "c") != content_tag("a", "bc")
    assert content_tag(b"x") == content_tag("x")
