"""docs/deployment.md lists every configuration key, generated from the schema."""

from __future__ import annotations

from pathlib import Path

from relkit.config_reference import TABLES, render, splice

PAGE = Path(__file__).resolve().parent.parent / "docs" / "deployment.md"


def test_the_page_is_what_the_generator_writes() -> None:
    text = PAGE.read_text(encoding="utf-8")
    assert splice(text) == text, "run: python -m relkit.config_reference docs/deployment.md"


def test_every_key_of_every_table_is_listed() -> None:
    text = PAGE.read_text(encoding="utf-8")
    for title, schema, _ in TABLES:
        section = text[text.index(f"#### `{title}`") :]
        section = section[: section.find("####", 5) if "####" in section[5:] else None]
        for key in schema:
            assert f"| `{key}` |" in section, (title, key)


def test_overridable_keys_name_their_variable() -> None:
    assert "| `sign_tags` | sign release tags" in render()
    assert "`RELKIT_SIGN_TAGS`" in render()
