"""Version files: detection, reading, and edits that change only the version's characters.

Each case is a template in which ``@V@`` marks where the version stands. The file
is written with the old version there; after a bump its bytes must equal the
template with the new version there, and nothing else changed: every other
``1.3.2`` in the templates (dependencies, comments, nested tables) must survive.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from relkit.bump_plan import apply_bump, current_version, plan_bump
from relkit.config import Config, VersionFileConfig
from relkit.errors import RelkitError, VersionError, VersionFileError
from relkit.versionfiles import VersionFile, detect

PYPROJECT = (
    '# top comment: version = "0.0.1"\n'
    "[build-system]\n"
    'requires = ["hatchling"]\n'
    "\n"
    "[project]\n"
    'name = "café-app"  # ünïcode ☕\n'
    'description = "日本語 — 1.3.2"\n'
    'version = "@V@"\n'
    'dependencies = ["foo==1.3.2"]\n'
    "\n"
    "[project.urls]\n"
    'version = "1.3.2"\n'
    "\n"
    "[tool.other]\n"
    'version = "1.3.2"'  # no trailing newline
)

CASES: dict[str, tuple[dict[str, str], tuple[VersionFileConfig, ...]]] = {
    "pyproject": ({"pyproject.toml": PYPROJECT}, ()),
    "pyproject-crlf": ({"pyproject.toml": PYPROJECT.replace("\n", "\r\n") + "\r\n"}, ()),
    "pyproject-odd-spacing": (
        {
            "pyproject.toml": "[ project ]   # the table\n\n"
            "  version   =   '@V@'   # pinned\nname='x'\n"
        },
        (),
    ),
    "pyproject-line-separators-in-comments": (
        # U+2028 and U+0085 are not line breaks in TOML: what follows them is still comment.
        {
            "pyproject.toml": '[project]\nname = "x"  # a\u2028version = "9.9.9"\n'
            '# b\x85version = "8.8.8"\nversion = "@V@"\n'
        },
        (),
    ),
    "pyproject-triple-quoted": (
        {
            "pyproject.toml": '[project]\nversion = """@V@"""\n',
            "Cargo.toml": "[package]\nversion = '''@V@'''\n",
        },
        (),
    ),
    "poetry": (
        {
            "pyproject.toml": '[tool.poetry]\nname = "x"\nversion = "@V@"\n\n'
            '[tool.poetry.dependencies]\npython = "^3.11"\nfoo = "1.3.2"\n'
        },
        (),
    ),
    "package-json-crlf": (
        {
            "package.json": '{\r\n    "name": "app",\r\n'
            '    "description": "caf\u00e9 \\"quoted\\" 1.3.2 ☕ \\u00e9",\r\n'
            '    "engines": {"version": "1.3.2"},\r\n'
            '    "version"  :  "@V@",\r\n'
            '    "dependencies": {\r\n        "dep": "1.3.2"\r\n    }\r\n}'
        },
        (),
    ),
    "package-json-and-lock": (
        {
            "package.json": '{"name":"app","version":"@V@","private":true}\n',
            "package-lock.json": '{\n  "name": "app",\n  "version": "@V@",\n'
            '  "lockfileVersion": 3,\n'
            '  "packages": {\n    "node_modules/dep": {\n      "version": "1.3.2"\n    },\n'
            '    "": {\n      "name": "app",\n      "version": "@V@"\n    }\n  }\n}\n',
        },
        (),
    ),
    "cargo": (
        {
            "Cargo.toml": '[package]\nname = "app"\nversion = "@V@" # keep\nedition = "2021"\n\n'
            '[dependencies]\nserde = { version = "1.3.2", features = ["derive"] }\n\n'
            '[package.metadata.x]\nversion = "1.3.2"\n'
        },
        (),
    ),
    "version-lf": ({"VERSION": "@V@\n"}, ()),
    "version-no-newline": ({"VERSION": "@V@"}, ()),
    "version-crlf-and-space": ({"VERSION": "  @V@  \r\n\r\n"}, ()),
    "pattern-crlf": (
        {
            "src/app/version.ts": '// VERSION = "1.3.2" was the old spelling\r\n'
            'export const VERSION = "@V@";\r\nexport const API = "1.3.2";\r\n'
        },
        (VersionFileConfig("src/app/version.ts", 'export const VERSION = "{version}";'),),
    ),
    "pattern-at-end-of-line": (
        {"chart/Chart.yaml": "name: app\nappVersion: @V@\nversion: 1.3.2"},
        (VersionFileConfig("chart/Chart.yaml", "appVersion: {version}"),),
    ),
    "everything-at-once": (
        {
            "pyproject.toml": PYPROJECT,
            "package.json": '{"version": "@V@"}',
            "package-lock.json": '{"version": "@V@", "packages": {"": {"version": "@V@"}}}',
            "Cargo.toml": '[package]\nversion = "@V@"\n',
            "VERSION": "@V@\n",
            "relkit/__init__.py": '"""Docs."""\n\n__version__ = "@V@"\n',
        },
        (VersionFileConfig("relkit/__init__.py", '__version__ = "{version}"'),),
    ),
}


def _write(root: Path, files: dict[str, str], version: str) -> None:
    for name, template in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(template.replace("@V@", version).encode("utf-8"))


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _bump(config: Config, part: str, pre: str | None = None) -> None:
    apply_bump(config, plan_bump(config, part=part, pre=pre, commit=False))


@pytest.mark.parametrize("case", list(CASES))
def test_edit_changes_only_the_version_characters(tmp_path: Path, case: str) -> None:
    files, configured = CASES[case]
    _write(tmp_path, files, "1.3.2")
    config = Config(root=tmp_path, version_files=configured)
    current = current_version(config)
    assert str(current.version) == "1.3.2"
    assert sorted(path for path, _ in current.sources) == sorted(files)
    assert {value for _, value in current.sources} == {"1.3.2"}

    _bump(config, "minor")

    assert _snapshot(tmp_path) == {
        name: template.replace("@V@", "1.4.0").encode("utf-8") for name, template in files.items()
    }


def test_pep440_rendering_is_written(tmp_path: Path) -> None:
    files = {"pyproject.toml": '[project]\nversion = "@V@"\n', "VERSION": "@V@\n"}
    _write(tmp_path, files, "1.3.2")
    config = Config(root=tmp_path, scheme="pep440")
    _bump(config, "minor", "rc")
    assert (tmp_path / "pyproject.toml").read_bytes() == b'[project]\nversion = "1.4.0rc1"\n'
    assert (tmp_path / "VERSION").read_bytes() == b"1.4.0rc1\n"
    _bump(config, "pre")
    assert (tmp_path / "VERSION").read_bytes() == b"1.4.0rc2\n"


def test_detection_order_and_kinds(tmp_path: Path) -> None:
    _write(tmp_path, CASES["everything-at-once"][0], "1.0.0")
    config = Config(
        root=tmp_path,
        version_files=(
            VersionFileConfig("package.json"),  # already detected: not listed twice
            VersionFileConfig("relkit/__init__.py", '__version__ = "{version}"'),
        ),
    )
    assert detect(config) == [
        VersionFile("pyproject.toml", "pyproject"),
        VersionFile("package.json", "package.json"),
        VersionFile("package-lock.json", "package-lock.json"),
        VersionFile("Cargo.toml", "cargo"),
        VersionFile("VERSION", "VERSION"),
        VersionFile("relkit/__init__.py", "pattern", '__version__ = "{version}"'),
    ]


@pytest.mark.parametrize(
    "files",
    [
        {"pyproject.toml": '[project]\nname = "x"\ndynamic = ["version"]\n'},
        {"pyproject.toml": '[tool.poetry]\nname = "x"\n'},
        {"package.json": '{"name": "x"}'},
        {"package-lock.json": '{"version": "1.0.0"}'},  # a lock without package.json
        {"Cargo.toml": '[workspace]\nmembers = ["a"]\n'},
    ],
)
def test_files_without_a_version_are_not_detected(tmp_path: Path, files: dict[str, str]) -> None:
    _write(tmp_path, files, "")
    config = Config(root=tmp_path)
    assert detect(config) == []
    with pytest.raises(VersionFileError, match="no version file found"):
        current_version(config)


def test_disagreeing_files_are_listed_with_their_values(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "pyproject.toml": '[project]\nversion = "1.3.2"\n',
            "package.json": '{"version": "1.3.3"}',
            "VERSION": "1.3.2\n",
        },
        "",
    )
    with pytest.raises(VersionFileError) as info:
        current_version(Config(root=tmp_path))
    assert info.value.message == (
        "the version files disagree: pyproject.toml says 1.3.2; package.json says 1.3.3;"
        " VERSION says 1.3.2"
    )


def test_lock_file_disagreeing_with_itself(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "package.json": '{"version": "1.3.2"}',
            "package-lock.json": '{"version": "1.3.2", "packages": {"": {"version": "1.3.1"}}}',
        },
        "",
    )
    with pytest.raises(VersionFileError) as info:
        current_version(Config(root=tmp_path))
    assert (
        info.value.message
        == f"{tmp_path / 'package-lock.json'}: carries different versions: 1.3.1, 1.3.2"
    )


@pytest.mark.parametrize(
    ("content", "pattern", "reason"),
    [
        (
            'VERSION = "1.3.2"\n',
            '__version__ = "{version}"',
            "must match exactly once, found no match",
        ),
        (
            '__version__ = "1.3.2"\nif x:\n    __version__ = "1.3.2"\n',
            '__version__ = "{version}"',
            "must match exactly once, found 2 matches",
        ),
        ('V = "1.3.2"\n', 'V = "version"', "must contain {version} exactly once"),
        (
            'V = "1.3.2" "1.3.2"\n',
            'V = "{version}" "{version}"',
            "must contain {version} exactly once",
        ),
    ],
)
def test_pattern_must_match_exactly_once(
    tmp_path: Path, content: str, pattern: str, reason: str
) -> None:
    _write(tmp_path, {"VERSION": "1.3.2\n", "app.py": content}, "")
    config = Config(root=tmp_path, version_files=(VersionFileConfig("app.py", pattern),))
    before = _snapshot(tmp_path)
    with pytest.raises(VersionFileError) as info:
        plan_bump(config, part="patch", commit=False)
    assert info.value.message.startswith(f"{tmp_path / 'app.py'}: pattern {pattern!r}")
    assert reason in info.value.message
    assert _snapshot(tmp_path) == before


def test_a_failing_edit_is_found_before_any_file_is_written(tmp_path: Path) -> None:
    # The second file cannot be edited: the plan fails, and the first file is untouched.
    _write(tmp_path, {"VERSION": "1.3.2\n", "b.txt": "v=1.3.2 v=1.3.2\n"}, "")
    config = Config(root=tmp_path, version_files=(VersionFileConfig("b.txt", "v={version}"),))
    before = _snapshot(tmp_path)
    with pytest.raises(VersionFileError):
        _bump(config, "patch")
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("files", "configured", "message"),
    [
        ({}, (VersionFileConfig("src/version.txt", "{version}"),), "src/version.txt: not found"),
        (
            {"setup.cfg": "version = 1.0.0\n"},
            (VersionFileConfig("setup.cfg"),),
            "version file 'setup.cfg' has no pattern",
        ),
        ({"package.json": '{\n  "version": "1.0.0",\n}'}, (), "package.json:3: invalid JSON"),
        ({"pyproject.toml": '[project]\nversion = "1.0.0\n'}, (), "pyproject.toml: invalid TOML"),
        ({"VERSION": "1.0.0 and more\n"}, (), "VERSION: expected a single version"),
        ({"VERSION": "1.3\n"}, (), "VERSION: invalid version '1.3': expected MAJOR.MINOR.PATCH"),
        ({"VERSION": b"\xff1.0.0\n"}, (), "VERSION: not UTF-8"),
        (
            {"pyproject.toml": '[project]\nversion = """\n1.0.0"""\n'},
            (),
            'pyproject.toml: no version = "..." line in [project]',
        ),
    ],
)
def test_unreadable_version_files(
    tmp_path: Path,
    files: dict[str, str | bytes],
    configured: tuple[VersionFileConfig, ...],
    message: str,
) -> None:
    for name, content in files.items():
        data = content if isinstance(content, bytes) else content.encode()
        (tmp_path / name).write_bytes(data)
    with pytest.raises((VersionFileError, VersionError)) as info:
        current_version(Config(root=tmp_path, version_files=configured))
    assert isinstance(info.value, RelkitError)
    assert message in info.value.message
    assert info.value.exit_code == 1
