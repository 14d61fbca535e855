"""The files ``relkit init`` writes: rendered from templates/, compared with what is there.

Building the plan changes nothing; :func:`apply` writes the new and (with
``force``) the changed files. A pyproject.toml gets its ``[tool.relkit]``
table through tomlkit, so the rest of the file stays byte for byte.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from relkit.errors import ConfigError
from relkit.files import FileEdit, apply_edits, read_text
from relkit.scaffold.detect import Detection

# Actions pinned by full commit sha (the tag in the comment is what the sha was
# released as). Bump both together.
ACTIONS = {
    "checkout": "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683  # v4.2.2",
    "setup-python": "actions/setup-python@0b93645e9fea7318ecaed2b359559ac225c90a2b  # v5.3.0",
    "setup-node": "actions/setup-node@39370e3970a6d050c480ffad4ff0ed4d3fdee5af  # v4.1.0",
    "setup-go": "actions/setup-go@3041bf56c941b39c61721a86cd11f3bb1338122a  # v5.2.0",
}
WORKFLOWS = ("ci", "release", "deploy")
CREATE, UNCHANGED, DIFFERS = "create", "unchanged", "differs"


@dataclass(frozen=True)
class Planned:
    edit: FileEdit
    added_table: bool = False  # pyproject.toml had no [tool.relkit]: adding one is not a change

    @property
    def status(self) -> str:
        if self.edit.old is None or self.added_table:
            return CREATE
        return UNCHANGED if self.edit.old == self.edit.new else DIFFERS


def _toml(value: Any) -> str:
    import tomlkit

    return str(tomlkit.item(value).as_string())


def _gh(expression: str) -> str:
    """A GitHub Actions expression, ``${{ expression }}`` (jinja would read the braces)."""
    return "${{ " + expression + " }}"


def render_config(detection: Detection, prefix: str) -> str:
    from relkit.templating import render

    context = {
        "prefix": prefix,
        "p": f"{prefix}." if prefix else "",
        "scheme": detection.scheme,
        "release_branch": detection.release_branch,
        "version_files": detection.version_files,
        "images": detection.images,
        "environments": detection.environments,
    }
    return render("init/config.toml.j2", context, {"toml": _toml})


def config_text(detection: Detection, target: Path, old: str | None) -> str:
    """The whole new text of *target* (relkit.toml, or pyproject.toml with the table)."""
    if target.name != "pyproject.toml":
        return render_config(detection, "")
    import tomlkit
    import tomlkit.exceptions

    try:
        document = tomlkit.parse(old or "")
    except tomlkit.exceptions.ParseError as exc:
        raise ConfigError(f"{target}: invalid TOML: {exc}", "fix the syntax") from None
    table = tomlkit.parse(render_config(detection, "tool.relkit"))["tool"]["relkit"]
    if "tool" not in document:
        document.add("tool", tomlkit.table(is_super_table=True))
    document["tool"]["relkit"] = table
    return str(document.as_string())


def workflow_context(detection: Detection, relkit_requirement: str) -> dict[str, Any]:
    envs = [env.name for env in detection.environments]
    return {
        "gh": _gh,
        "actions": ACTIONS,
        "language": detection.language,
        "branch": detection.release_branch,
        "images": detection.images,
        "registry_host": detection.registry.split("/", 1)[0],
        "environments": envs,
        "first_env": envs[0] if envs else None,
        "production": envs[-1] if envs else None,
        "relkit": relkit_requirement,
    }


def plan(detection: Detection, ci: str | None, relkit_requirement: str) -> list[Planned]:
    """Every file ``relkit init`` would write, with its current and new text."""
    from relkit.templating import render

    root = detection.root
    target = root / "relkit.toml"
    if not target.is_file() and (root / "pyproject.toml").is_file():
        target = root / "pyproject.toml"
    old = read_text(target)
    added = target.name == "pyproject.toml" and "relkit" not in _tool_tables(old or "")
    items = [(target, config_text(detection, target, old))]
    changelog = root / "CHANGELOG.md"
    if not changelog.exists():
        link = None
        if detection.forge == "github":
            slug = detection.registry.removeprefix("ghcr.io/")
            link = f"https://github.com/{slug}/commits/{detection.release_branch}"
        items.append(
            (changelog, render("init/CHANGELOG.md.j2", {"scheme": detection.scheme, "link": link}))
        )
    if ci == "github":
        context = workflow_context(detection, relkit_requirement)
        for name in WORKFLOWS:
            if name == "deploy" and not detection.environments:
                continue
            path = root / ".github" / "workflows" / f"{name}.yml"
            items.append((path, render(f"workflows/{name}.yml.j2", context)))
    return [
        Planned(
            FileEdit(path, str(path.relative_to(root)), read_text(path), text),
            added_table=added and path == target,
        )
        for path, text in items
    ]


def _tool_tables(text: str) -> set[str]:
    import tomllib

    try:
        tool = tomllib.loads(text).get("tool", {})
    except tomllib.TOMLDecodeError:
        return set()
    return set(tool) if isinstance(tool, dict) else set()


def apply(planned: Sequence[Planned], force: bool) -> list[Planned]:
    """Write what is new (and, with *force*, what differs); return what was written."""
    chosen = [
        item for item in planned if item.status == CREATE or (item.status == DIFFERS and force)
    ]
    for item in chosen:
        item.edit.path.parent.mkdir(parents=True, exist_ok=True)
    apply_edits([item.edit for item in chosen])
    return chosen
