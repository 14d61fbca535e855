"""Where a value stands in TOML text, so that config errors can name the line.

tomllib gives values without positions, so this reads the text itself: the
table header that covers the longest part of the key path (``[[array]]``
headers counted per entry), then the key inside that table, then items of
inline arrays and keys of inline tables (``smoke = [{ url = ... }, ...]``).
Best effort: None when the text is written in a way it does not follow.
"""

from __future__ import annotations

import re

Path_ = tuple[str | int, ...]

_HEADER = re.compile(r"^[ \t]*(\[\[?)[ \t]*([^\]\n]+?)[ \t]*\]\]?[ \t]*(?:#.*)?\r?$", re.MULTILINE)
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def line_of(text: str, path: Path_, prefix: tuple[str, ...] = ()) -> int | None:
    """The 1-based line of the value at *prefix* + *path* in *text*."""
    full = prefix + path
    if not text or not path:
        return None
    headers = list(_HEADER.finditer(text))
    # The table whose header covers the longest part of the path: (length, index).
    best_len, best = (-1, -1) if prefix else (0, -1)
    counts: dict[tuple[str, ...], int] = {}
    for number, match in enumerate(headers):
        names = tuple(p.strip().strip("\"'") for p in match.group(2).split("."))
        indexed: list[str | int] = []
        for i in range(len(names)):
            indexed.append(names[i])
            if names[: i + 1] in counts and i < len(names) - 1:
                indexed.append(counts[names[: i + 1]] - 1)
        if match.group(1) == "[[":
            if tuple(indexed) == full:  # the array itself: its first entry
                return _line(text, match.start())
            indexed.append(counts.get(names, 0))
            counts[names] = counts.get(names, 0) + 1
        if full[: len(indexed)] == tuple(indexed) and len(indexed) > best_len:
            best_len, best = len(indexed), number
            if best_len == len(full):
                return _line(text, match.start())
    if best_len < 0:
        return None
    start = headers[best].end() if best >= 0 else 0
    following = [m.start() for m in headers if m.start() >= start]
    end = following[0] if following else len(text)
    key = full[best_len]
    position = None
    if isinstance(key, str):
        regex = re.compile(rf"^[ \t]*[\"']?{re.escape(key)}[\"']?[ \t]*=", re.MULTILINE)
        found = regex.search(text, start, end)
        position = found.end() if found else None
    if position is None:
        return _line(text, headers[best].start()) if best >= 0 else None
    for part in full[best_len + 1 :]:
        inner = _descend(text, position, part)
        if inner is None:
            break
        position = inner
    return _line(text, position)


def _line(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def _descend(text: str, position: int, part: str | int) -> int | None:
    """From the value at *position*, the start of item *part* (array) or key *part* (table)."""
    position = _skip_space(text, position)
    opener = "[" if isinstance(part, int) else "{"
    if position >= len(text) or text[position] != opener:
        return None
    index = 0
    position += 1
    while True:
        position = _skip_space(text, position)
        if position >= len(text) or text[position] in "]}":
            return None
        if isinstance(part, int):
            if index == part:
                return position
        else:
            key = _BARE_KEY.match(text, position)
            quoted = text[position] in "\"'"
            end = text.find(text[position], position + 1) if quoted else (key.end() if key else -1)
            name = text[position + 1 : end] if quoted else text[position:end]
            after = _skip_space(text, end + 1 if quoted else end)
            if end < 0 or after >= len(text) or text[after] != "=":
                return None
            position = _skip_space(text, after + 1)
            if name == part:
                return position
        position = _skip_value(text, position)
        position = _skip_space(text, position)
        if position < len(text) and text[position] == ",":
            position += 1
        index += 1


def _skip_space(text: str, position: int) -> int:
    """Past whitespace, newlines and comments."""
    while position < len(text):
        if text[position] in " \t\r\n":
            position += 1
        elif text[position] == "#":
            newline = text.find("\n", position)
            position = len(text) if newline < 0 else newline
        else:
            break
    return position


def _skip_value(text: str, position: int) -> int:
    """Past one value: a string, an inline array or table, or a bare token."""
    depth = 0
    while position < len(text):
        char = text[position]
        if char in "\"'":
            triple = text.startswith(char * 3, position)
            quote = char * 3 if triple else char
            position += len(quote)
            while position < len(text) and not text.startswith(quote, position):
                position += 2 if char == '"' and text[position] == "\\" else 1
            position += len(quote)
            if depth == 0:
                return position
            continue
        if char in "[{":
            depth += 1
        elif char in "]}":
            if depth == 0:
                return position
            depth -= 1
            if depth == 0:
                return position + 1
        elif char == "," and depth == 0:
            return position
        elif char == "#":
            position = _skip_space(text, position)
            continue
        elif char in "\r\n" and depth == 0:
            return position
        position += 1
    return position
