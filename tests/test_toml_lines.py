"""Line numbers of values in TOML text, for config errors."""

from __future__ import annotations

import tomllib

import pytest

from relkit.toml_lines import line_of

DOC = """\
# relkit.toml
scheme = "semver"   # [not a header]
"tag_format" = 'v{version}'

[[images]]
name = "a"  # , { } [ ]
services = ["x", "y"]

[images.build_args]
A = "1"

[[images]]
name = "b"
services = [
  "api",  # first
  "migrate",
]

[environments.staging]
driver = "compose"
smoke = [
  { url = "http://a/{x}", status = 200 },  # a comment, with [brackets]
  # between the items
  { url = "http://b", json = { version = "a,b}" }, status = 500 },
  { "url" = 'http://c', retries = 3 },
]
approval = false

[environments.production]
driver = "swarm"
"""


@pytest.mark.parametrize(
    ("path", "line"),
    [
        (("scheme",), 2),
        (("tag_format",), 3),
        (("images",), 5),
        (("images", 0), 5),
        (("images", 0, "services"), 7),
        (("images", 0, "build_args", "A"), 10),
        (("images", 1), 12),
        (("images", 1, "name"), 13),
        (("images", 1, "services", 1), 16),
        (("environments", "staging"), 19),
        (("environments", "staging", "smoke"), 21),
        (("environments", "staging", "smoke", 0, "status"), 22),
        (("environments", "staging", "smoke", 1), 24),
        (("environments", "staging", "smoke", 1, "status"), 24),
        (("environments", "staging", "smoke", 1, "json", "version"), 24),
        (("environments", "staging", "smoke", 2, "retries"), 25),
        (("environments", "staging", "smoke", 2, "url"), 25),
        (("environments", "staging", "approval"), 27),
        (("environments", "production", "driver"), 30),
    ],
)
def test_line_of(path: tuple[str | int, ...], line: int) -> None:
    tomllib.loads(DOC)  # the document itself is valid TOML
    assert line_of(DOC, path) == line


def test_crlf_and_pyproject_prefix() -> None:
    text = (
        '[project]\r\nversion = "1"\r\n\r\n[tool.relkit]\r\nscheme = "x"\r\n\r\n'
        "[tool.relkit.environments.qa]\r\ndriver = 1\r\n"
    )
    assert line_of(text, ("scheme",), ("tool", "relkit")) == 5
    assert line_of(text, ("environments", "qa", "driver"), ("tool", "relkit")) == 8
    assert line_of(text, ("version",), ("tool", "relkit")) == 4  # not there: its table


def test_unknown_places_fall_back_to_the_table_or_nothing() -> None:
    assert line_of(DOC, ("environments", "staging", "missing")) == 19
    assert line_of(DOC, ("missing",)) is None
    assert line_of("", ("scheme",)) is None
    assert line_of('scheme = "x"\n', ("tool", "relkit"), ("tool", "relkit")) is None
