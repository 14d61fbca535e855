"""The one jinja2 environment of relkit, and a sandbox for templates users bring.

Shipped templates live in ``templates/`` at the repository root; the wheel
carries them as ``relkit/templates``. jinja2 is imported here only, when a
command renders something.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from relkit.errors import RelkitError

if TYPE_CHECKING:
    import jinja2


def template_dir() -> Path:
    """``relkit/templates`` in an installed wheel, ``templates/`` in a source checkout."""
    packaged = Path(__file__).parent / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "templates"


def _options() -> dict[str, Any]:
    import jinja2

    return {
        "undefined": jinja2.StrictUndefined,
        "keep_trailing_newline": True,
        "trim_blocks": True,
        "lstrip_blocks": True,
        "autoescape": False,
    }


def environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(template_dir()), **_options())


def render(name: str, context: dict[str, Any], filters: dict[str, Any] | None = None) -> str:
    """Render a shipped template."""
    env = environment()
    env.filters.update(filters or {})
    return _render(name, lambda: env.get_template(name), context)


def render_user(path: Path, context: dict[str, Any], filters: dict[str, Any] | None = None) -> str:
    """Render a user's template in jinja2's sandbox (no attribute tricks, no file access)."""
    from jinja2.sandbox import SandboxedEnvironment

    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RelkitError(
            f"cannot read template {path}: {exc.strerror}", "check the path"
        ) from None
    env = SandboxedEnvironment(**_options())
    env.filters.update(filters or {})
    return _render(str(path), lambda: env.from_string(source), context)


def _render(name: str, load: Any, context: dict[str, Any]) -> str:
    import jinja2
    from jinja2.exceptions import SecurityError

    try:
        return str(load().render(**context))
    except jinja2.TemplateSyntaxError as exc:
        raise RelkitError(f"{name}:{exc.lineno}: {exc.message}", "fix the template") from None
    except (jinja2.UndefinedError, SecurityError) as exc:
        raise RelkitError(f"{name}: {exc}", "use only the documented variables") from None
    except jinja2.TemplateError as exc:
        raise RelkitError(f"{name}: {exc}", "fix the template") from None
