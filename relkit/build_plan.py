"""Plan an image build: tags, build arguments and OCI labels, computed from plain values.

Nothing here talks to Docker. :func:`plan_build` gathers the facts (version,
git sha, origin remote, clock) and :func:`plan_images` turns them into an
:class:`ImagePlan` per configured image; ``relkit build --dry-run`` prints that.

Tags follow docker/metadata-action's convention: ``{version}`` always; for a
final release also ``{major}.{minor}``, ``{major}`` and ``latest``; ``sha-<7>``
always. A pre-release gets no moving tag. Docker tags allow only
``[A-Za-z0-9_.-]``, so SemVer build metadata's ``+`` becomes ``_`` (as Helm
does for OCI charts: SemVer has no ``_``, so the mapping is reversible) and any
other disallowed character becomes ``-``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from relkit import git
from relkit.config import Config, ImageConfig
from relkit.errors import ConfigError, GitError, UsageError
from relkit.version import Version

SHORT_SHA = 7
MAX_TAG = 128
OCI = "org.opencontainers.image."

_TAG_CHAR = re.compile(r"[^A-Za-z0-9_.-]")
_SCP_LIKE = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?P<path>[^/].*)$")


@dataclass(frozen=True)
class ImagePlan:
    """One image to build: where from, under which tags, with which args and labels."""

    name: str
    context: Path
    dockerfile: str
    tags: tuple[str, ...]
    build_args: Mapping[str, str]
    labels: Mapping[str, str]

    @property
    def refs(self) -> tuple[str, ...]:
        return tuple(f"{self.name}:{tag}" for tag in self.tags)

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "context": str(self.context),
            "dockerfile": self.dockerfile,
            "tags": list(self.tags),
            "build_args": dict(self.build_args),
            "labels": dict(self.labels),
        }


@dataclass(frozen=True)
class BuildPlan:
    version: str
    git_sha: str
    created: str
    images: tuple[ImagePlan, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, object]:
        return {
            "version": self.version,
            "git_sha": self.git_sha,
            "created": self.created,
            "images": [image.as_dict() for image in self.images],
        }


def docker_tag(text: str) -> str:
    """*text* made a valid Docker tag: ``+`` → ``_``, other bad characters → ``-``."""
    tag = _TAG_CHAR.sub("-", text.replace("+", "_"))
    if tag.startswith((".", "-")):
        tag = "_" + tag[1:]
    if not tag or len(tag) > MAX_TAG:
        raise UsageError(f"{text!r} cannot be a Docker tag", f"at most {MAX_TAG} characters")
    return tag


def image_tags(version: Version, git_sha: str) -> tuple[str, ...]:
    """The tags of one build of *version* at commit *git_sha*."""
    tags = [docker_tag(str(version))]
    if not version.is_prerelease:
        moving = [f"{version.major}.{version.minor}", f"{version.major}", "latest"]
        tags += [tag for tag in moving if tag not in tags]
    tags.append(f"sha-{git_sha[:SHORT_SHA]}")
    return tuple(tags)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_date(env: Mapping[str, str], now: datetime | None = None) -> str:
    """``BUILD_DATE``: RFC 3339 UTC, from ``SOURCE_DATE_EPOCH`` when set (reproducible builds)."""
    epoch = env.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        if not epoch.isdigit():
            raise ConfigError(
                f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds",
                "set it to a Unix timestamp, e.g. $(git log -1 --format=%ct)",
            )
        return rfc3339(datetime.fromtimestamp(int(epoch), UTC))
    return rfc3339(now or datetime.now(UTC))


def source_url(remote: str | None) -> str | None:
    """The web address of a git remote URL, credentials dropped (``None`` for local paths).

    ``git@host:acme/api.git`` and ``ssh://git@host:22/acme/api.git`` become
    ``https://host/acme/api``; an http(s) remote keeps its scheme.
    """
    if not remote:
        return None
    remote = remote.strip()
    scheme, sep, rest = remote.partition("://")
    if not sep:
        match = _SCP_LIKE.match(remote)
        if not match:
            return None
        scheme, host, path = "ssh", match.group("host"), match.group("path")
    elif scheme in ("https", "http", "ssh", "git", "git+ssh"):
        authority, _, path = rest.partition("/")
        host = authority.rpartition("@")[2]
        if scheme not in ("https", "http"):
            host = host.split(":")[0]  # an ssh port says nothing about the web address
    else:
        return None
    path = _strip_git(path.lstrip("/"))
    if not host or not path:
        return None
    return f"{'http' if scheme == 'http' else 'https'}://{host}/{path}"


def _strip_git(path: str) -> str:
    path = path.rstrip("/")
    return path[: -len(".git")] if path.endswith(".git") else path


def image_title(name: str) -> str:
    """The last path component of an image name, without a tag."""
    last = name.rsplit("/", 1)[-1]
    return last.split("@", 1)[0].split(":", 1)[0]


def plan_images(
    images: Sequence[ImageConfig],
    *,
    root: Path,
    version: Version,
    git_sha: str,
    created: str,
    source: str | None,
    extra_labels: Mapping[str, str] | None = None,
) -> tuple[ImagePlan, ...]:
    """Pure: the plan of every image in *images*."""
    tags = image_tags(version, git_sha)
    plans = []
    for image in images:
        args = {
            **image.build_args,
            "VERSION": str(version),
            "GIT_SHA": git_sha,
            "BUILD_DATE": created,
        }
        labels = {
            f"{OCI}version": str(version),
            f"{OCI}revision": git_sha,
            f"{OCI}created": created,
            **({f"{OCI}source": source} if source else {}),
            f"{OCI}title": image_title(image.name),
            **(extra_labels or {}),
        }
        plans.append(
            ImagePlan(
                name=image.name,
                context=(root / image.context).resolve(),
                dockerfile=image.dockerfile,
                tags=tags,
                build_args=args,
                labels=labels,
            )
        )
    return tuple(plans)


def select_images(config: Config, names: Sequence[str]) -> tuple[ImageConfig, ...]:
    """The configured images, or those named with ``--image``."""
    if not config.images:
        where = config.file or config.root
        raise ConfigError(
            f"no images configured in {where}",
            "add a [[tool.relkit.images]] entry with name, context and dockerfile",
        )
    if not names:
        return config.images
    known = {image.name: image for image in config.images}
    chosen = []
    for name in names:
        if name not in known:
            raise UsageError(
                f"no configured image named {name!r}", f"configured: {', '.join(known)}"
            )
        chosen.append(known[name])
    return tuple(chosen)


def plan_build(
    config: Config,
    *,
    images: Sequence[str] = (),
    extra_labels: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> BuildPlan:
    """Gather version, commit, remote and date, then plan every selected image."""
    from relkit.bump_plan import current_version

    env = os.environ if env is None else env
    chosen = select_images(config, images)
    version = current_version(config).version
    sha = git.head_sha(config.root) if git.is_repo(config.root) else None
    if sha is None:
        raise GitError(
            f"{config.root} has no commit to build from",
            "relkit build labels images with the git sha: commit first (git init, git commit)",
        )
    created = build_date(env, now)
    source = source_url(git.config_value(config.root, "remote.origin.url"))
    plans = plan_images(
        chosen,
        root=config.root,
        version=version,
        git_sha=sha,
        created=created,
        source=source,
        extra_labels=extra_labels,
    )
    return BuildPlan(version=str(version), git_sha=sha, created=created, images=plans)
