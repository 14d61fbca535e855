"""Files that carry the version: find them, read them, edit them surgically.

Every edit changes only the characters of the version itself; the rest of
the file (comments, key order, indentation, CRLF, the trailing newline) stays
byte-identical. Each edit is checked by parsing the result again.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from json.decoder import scanstring  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any

from relkit.config import Config
from relkit.errors import VersionFileError

Span = tuple[int, int]


@dataclass(frozen=True)
class VersionFile:
    """A file relative to the project root and the way its version is written."""

    path: str
    kind: str  # pyproject, poetry, cargo, package.json, package-lock.json, VERSION, pattern
    pattern: str | None = None


def detect(config: Config) -> list[VersionFile]:
    """The auto-detected version files plus the configured ones, in a stable order."""
    root = config.root
    found: list[VersionFile] = []
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        data = _toml(pyproject)
        if isinstance(data.get("project", {}).get("version"), str):
            found.append(VersionFile("pyproject.toml", "pyproject"))
        elif isinstance(data.get("tool", {}).get("poetry", {}).get("version"), str):
            found.append(VersionFile("pyproject.toml", "poetry"))
    package = root / "package.json"
    if package.is_file() and "version" in _json(package):
        found.append(VersionFile("package.json", "package.json"))
        lock = root / "package-lock.json"
        if lock.is_file() and "version" in _json(lock):
            found.append(VersionFile("package-lock.json", "package-lock.json"))
    cargo = root / "Cargo.toml"
    if cargo.is_file() and isinstance(_toml(cargo).get("package", {}).get("version"), str):
        found.append(VersionFile("Cargo.toml", "cargo"))
    if (root / "VERSION").is_file():
        found.append(VersionFile("VERSION", "VERSION"))
    for entry in config.version_files:
        if entry.pattern is not None:
            item = VersionFile(entry.path, "pattern", entry.pattern)
        else:
            kind = _KIND_BY_NAME.get(Path(entry.path).name)
            if kind is None:
                raise VersionFileError(
                    f"version file {entry.path!r} has no pattern",
                    "add pattern = 'VERSION = \"{version}\"' (the text around the version)",
                )
            item = VersionFile(entry.path, kind)
        if item not in found:
            found.append(item)
    return found


_KIND_BY_NAME = {
    "pyproject.toml": "pyproject",
    "package.json": "package.json",
    "package-lock.json": "package-lock.json",
    "Cargo.toml": "cargo",
    "VERSION": "VERSION",
}


def _read(path: Path) -> str:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return handle.read()
    except FileNotFoundError:
        raise VersionFileError(f"{path}: not found", "create it or fix version_files") from None
    except UnicodeDecodeError as exc:
        raise VersionFileError(f"{path}: not UTF-8 ({exc.reason})") from None


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(_read(path))
    except tomllib.TOMLDecodeError as exc:
        raise VersionFileError(f"{path}: invalid TOML: {exc}") from None


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(_read(path))
    except json.JSONDecodeError as exc:
        raise VersionFileError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    return data if isinstance(data, dict) else {}


def read_text(root: Path, item: VersionFile) -> str:
    return _read(root / item.path)


def version_in(text: str, item: VersionFile, root: Path) -> str:
    """The version written in *text*, the content of *item*."""
    path = root / item.path
    values = {text[start:end] for start, end in locate(text, item, path)}
    if len(values) != 1:
        raise VersionFileError(
            f"{path}: carries different versions: {', '.join(sorted(values))}",
            "make them agree, then bump",
        )
    return values.pop()


def replace_version(root: Path, item: VersionFile, text: str, new: str) -> str:
    """*text* (the file's content) with the version replaced by *new*, checked."""
    path = root / item.path
    result = text
    for start, end in sorted(locate(text, item, path), reverse=True):
        result = result[:start] + new + result[end:]
    if version_in(result, item, root) != new:
        raise VersionFileError(f"{path}: the edited file does not read back as {new}")
    _check_same_document(text, result, item, path, new)
    return result


def locate(text: str, item: VersionFile, path: Path) -> list[Span]:
    """Where the version's characters stand in *text* (package-lock.json: twice)."""
    if item.kind == "package-lock.json":
        return _lock_spans(text, path)
    return [_locate_one(text, item, path)]


def _locate_one(text: str, item: VersionFile, path: Path) -> Span:
    kind = item.kind
    if kind == "pyproject":
        return _toml_span(text, ("project",), path)
    if kind == "poetry":
        return _toml_span(text, ("tool", "poetry"), path)
    if kind == "cargo":
        return _toml_span(text, ("package",), path)
    if kind == "package.json":
        return _json_span(text, ("version",), path)
    if kind == "VERSION":
        match = re.fullmatch(r"\s*(\S+)\s*", text)
        if match is None:
            raise VersionFileError(f"{path}: expected a single version, found {text[:40]!r}")
        return match.span(1)
    if kind == "pattern":
        return _pattern_span(text, item.pattern or "", path)
    raise VersionFileError(f"{path}: unknown version file kind {kind!r}")


def _lock_spans(text: str, path: Path) -> list[Span]:
    """package-lock.json carries the version twice: at the top and in packages[""]."""
    spans = [_json_span(text, ("version",), path)]
    try:
        spans.append(_json_span(text, ("packages", "", "version"), path))
    except VersionFileError:
        pass
    return spans


_TOML_KEY = re.compile(r"""^[ \t]*(?:version|"version"|'version')[ \t]*=[ \t]*(["'])""")
_TOML_HEADER = re.compile(r"^[ \t]*\[(?!\[)[ \t]*([^\]]+?)[ \t]*\][ \t]*(?:#.*)?$")


def _toml_span(text: str, table: tuple[str, ...], path: Path) -> Span:
    current: tuple[str, ...] | None = ()
    offset = 0
    # Only "\n" ends a TOML line: str.splitlines() would also break at U+2028 or
    # U+0085 inside a comment and read the rest of that comment as a key.
    for line in text.split("\n"):
        line += "\n"
        header = _TOML_HEADER.match(line.rstrip("\r\n"))
        if header:
            current = tuple(p.strip().strip("\"'") for p in header.group(1).split("."))
        elif line.lstrip().startswith("[["):
            current = None
        elif current == table:
            match = _TOML_KEY.match(line)
            if match:
                quote = match.group(1)
                start = offset + match.end()
                if text.startswith(quote * 2, start):  # version = """1.0.0"""
                    quote *= 3
                    start += 2
                end = text.find(quote, start)
                if end < 0 or "\n" in text[start:end]:
                    break
                return start, end
        offset += len(line)
    raise VersionFileError(
        f'{path}: no version = "..." line in [{".".join(table)}]',
        "write the version as a plain string on its own line",
    )


def _json_span(text: str, keys: tuple[str, ...], path: Path) -> Span:
    decoder = json.JSONDecoder()
    index = _skip_ws(text, 0)
    try:
        for key in keys:
            if text[index] != "{":
                raise ValueError
            index = _skip_ws(text, index + 1)
            while True:
                if text[index] == "}":
                    raise KeyError(key)
                name, index = scanstring(text, index + 1)
                index = _skip_ws(text, index)
                index = _skip_ws(text, index + 1)  # the colon
                if name == key:
                    break
                _, index = decoder.raw_decode(text, index)
                index = _skip_ws(text, index)
                if text[index] == ",":
                    index = _skip_ws(text, index + 1)
        if text[index] != '"':
            raise ValueError
        _, end = scanstring(text, index + 1)
        return index + 1, end - 1
    except (KeyError, ValueError, IndexError):
        raise VersionFileError(f"{path}: no string at {'.'.join(keys) or 'top'}") from None


def _skip_ws(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index


_VERSION_CHARS = r"[0-9A-Za-z.+!_\-]+"


def _pattern_span(text: str, pattern: str, path: Path) -> Span:
    if pattern.count("{version}") != 1:
        raise VersionFileError(
            f"{path}: pattern {pattern!r} must contain {{version}} exactly once",
            "fix version_files in the config",
        )
    before, after = pattern.split("{version}")
    chars = _VERSION_CHARS + ("?" if after else "")
    regex = re.compile(re.escape(before) + f"({chars})" + re.escape(after))
    matches = list(regex.finditer(text))
    if len(matches) != 1:
        found = "no match" if not matches else f"{len(matches)} matches"
        raise VersionFileError(
            f"{path}: pattern {pattern!r} must match exactly once, found {found}",
            "make the pattern more specific, or fix the file",
        )
    return matches[0].span(1)


def _check_same_document(old: str, new: str, item: VersionFile, path: Path, version: str) -> None:
    """The edited file must parse and differ from the old one only in the version."""
    if item.kind in ("pyproject", "poetry", "cargo"):
        table = {"pyproject": ("project",), "poetry": ("tool", "poetry"), "cargo": ("package",)}
        try:
            before, after = tomllib.loads(old), tomllib.loads(new)
        except tomllib.TOMLDecodeError as exc:
            raise VersionFileError(f"{path}: the edit breaks the TOML: {exc}") from None
        node = before
        for key in table[item.kind]:
            node = node[key]
        node["version"] = version
        if before != after:
            raise VersionFileError(f"{path}: the edit changed more than the version")
    elif item.kind in ("package.json", "package-lock.json"):
        try:
            json.loads(new)
        except json.JSONDecodeError as exc:
            raise VersionFileError(f"{path}: the edit breaks the JSON: {exc.msg}") from None
