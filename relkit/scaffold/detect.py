"""What ``relkit init`` learns from a repository: language, version files, images, environments."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from relkit import git
from relkit.config import Config
from relkit.errors import RelkitError

COMPOSE_NAME = re.compile(r"^(docker-)?compose(\.(?P<variant>[\w.-]+))?\.ya?ml$")
PRODUCTION = re.compile(r"(^|[.-])(prod|production)($|[.-])")
STAGING = re.compile(r"(^|[.-])(staging|stage|stg)($|[.-])")
SKIP_DIRS = {
    "node_modules",
    "vendor",
    "venv",
    "build",
    "dist",
    "target",
    "tests",
    "test",
    "examples",
    "docs",
    "testdata",
    "fixtures",
}
MIGRATE_NAMES = ("migrate", "migrations", "migration")
BACKUP_NAMES = ("backup",)


@dataclass(frozen=True)
class DetectedImage:
    name: str
    context: str
    dockerfile: str
    services: tuple[str, ...]


@dataclass(frozen=True)
class DetectedEnvironment:
    name: str
    compose_files: tuple[str, ...]
    project: str
    migrate: str | None
    pre_deploy: tuple[str, ...]
    approval: bool


@dataclass(frozen=True)
class Detection:
    root: Path
    project: str
    language: str  # python, node, go, rust (anything else: python, the default)
    scheme: str
    release_branch: str
    version_files: tuple[str, ...]
    images: tuple[DetectedImage, ...]
    environments: tuple[DetectedEnvironment, ...]
    registry: str  # repository prefix of the images, e.g. ghcr.io/owner/repo
    forge: str | None  # "github" when origin is on github.com


def detect(root: Path) -> Detection:
    """Everything ``relkit init`` writes down, read from the files at *root* and its git."""
    from relkit import versionfiles

    language = _language(root)
    remote = git.config_value(root, "remote.origin.url") if git.is_repo(root) else None
    registry, forge, project = _registry(remote, root.name)
    version_files = tuple(f.path for f in versionfiles.detect(Config(root=root)))
    compose = _compose_files(root)
    services = _compose_services(root, compose)
    images = tuple(_images(root, registry, services))
    return Detection(
        root=root,
        project=project,
        language=language,
        scheme="pep440" if (root / "pyproject.toml").is_file() else "semver",
        release_branch=_release_branch(root),
        version_files=version_files,
        images=images,
        environments=tuple(_environments(project, compose, services)),
        registry=registry,
        forge=forge,
    )


def _language(root: Path) -> str:
    for marker, language in (
        ("package.json", "node"),
        ("go.mod", "go"),
        ("Cargo.toml", "rust"),
    ):
        if (root / marker).is_file() and not (root / "pyproject.toml").is_file():
            return language
    return "python"


def parse_remote(url: str) -> tuple[str, str] | None:
    """``(host, owner/repo)`` of a git remote URL (scp-like, ssh:// or https://)."""
    match = re.match(
        r"^(?:[\w+]+://)?(?:[^@/]+@)?(?P<host>[^/:]+)(?::\d+)?[:/](?P<path>.+?)"
        r"(?:\.git)?/?$",
        url.strip(),
    )
    if match is None or "/" not in match.group("path"):
        return None
    return match.group("host").lower(), match.group("path").lower()


def _registry(remote: str | None, fallback: str) -> tuple[str, str | None, str]:
    parsed = parse_remote(remote) if remote else None
    if parsed is None:
        name = _slug(fallback)
        return f"registry.example.com/{name}", None, name
    host, path = parsed
    project = _slug(path.rsplit("/", 1)[-1])
    if host == "github.com":
        return f"ghcr.io/{path}", "github", project
    if host == "gitlab.com":
        return f"registry.gitlab.com/{path}", None, project
    return f"{host}/{path}", None, project


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-.") or "app"


def _release_branch(root: Path) -> str:
    if not git.is_repo(root):
        return "main"
    head = git.run(
        ["symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"], root, check=False
    ).strip()
    if head.startswith("origin/"):
        return head.removeprefix("origin/")
    branch = git.current_branch(root)
    return branch or "main"


def _compose_files(root: Path) -> list[str]:
    return sorted(
        path.name for path in root.iterdir() if path.is_file() and COMPOSE_NAME.match(path.name)
    )


def _compose_services(root: Path, files: list[str]) -> dict[str, dict[str, Any]]:
    """Every service of every compose file (later definitions update earlier ones)."""
    from relkit.deploy.composefile import load

    services: dict[str, dict[str, Any]] = {}
    for name in files:
        try:
            data = load(root / name)
        except RelkitError:
            continue
        for service, body in (data.get("services") or {}).items():
            if isinstance(body, dict):
                services.setdefault(str(service), {}).update(body)
    return services


def _normal(path: str) -> str:
    parts = [p for p in Path(path).parts if p not in (".", "")]
    return "/".join(parts) or "."


def _build_context(body: dict[str, Any]) -> str | None:
    build = body.get("build")
    if isinstance(build, str):
        return _normal(build)
    if isinstance(build, dict):
        return _normal(str(build.get("context", ".")))
    return None


def _dockerfiles(root: Path, depth: int = 3) -> list[Path]:
    found: list[Path] = []

    def walk(directory: Path, level: int) -> None:
        if (directory / "Dockerfile").is_file():
            found.append(directory / "Dockerfile")
        if level >= depth:
            return
        for child in sorted(directory.iterdir()):
            if child.is_dir() and not child.name.startswith(".") and child.name not in SKIP_DIRS:
                walk(child, level + 1)

    walk(root, 0)
    return found


def _images(root: Path, registry: str, services: dict[str, dict[str, Any]]) -> list[DetectedImage]:
    images = []
    for dockerfile in _dockerfiles(root):
        context = _normal(str(dockerfile.parent.relative_to(root)))
        name = registry if context == "." else f"{registry}/{_slug(dockerfile.parent.name)}"
        users = tuple(
            service
            for service, body in services.items()
            if _build_context(body) == context or _repository(str(body.get("image", ""))) == name
        )
        images.append(DetectedImage(name, context, "Dockerfile", users))
    return images


def _repository(image: str) -> str:
    """``registry/name`` of an image reference, without tag or digest."""
    image = image.split("@", 1)[0]
    head, _, last = image.rpartition("/")
    return f"{head}/{last.split(':', 1)[0]}" if head else last.split(":", 1)[0]


def _environments(
    project: str, files: list[str], services: dict[str, dict[str, Any]]
) -> list[DetectedEnvironment]:
    base = [f for f in files if (m := COMPOSE_NAME.match(f)) and not m["variant"]][:1]
    migrate = next((s for s in MIGRATE_NAMES if s in services), None)
    pre_deploy = tuple(s for s in BACKUP_NAMES if s in services)
    environments = []
    for name, pattern in (("staging", STAGING), ("production", PRODUCTION)):
        variants = [
            f for f in files if (m := COMPOSE_NAME.match(f)) and pattern.search(m["variant"] or "")
        ]
        if variants:
            environments.append(
                DetectedEnvironment(
                    name,
                    (*base, variants[0]),
                    f"{project}-{name}",
                    migrate,
                    pre_deploy,
                    approval=name == "production",
                )
            )
    if not environments and base:
        environments.append(
            DetectedEnvironment(
                "production", tuple(base), f"{project}-production", migrate, pre_deploy, True
            )
        )
    return environments
