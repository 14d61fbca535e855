"""What a build produced, and how a later job finds it again.

The registry is the record (docs/images.md): ``relkit build --push`` pushes
``name:{version}`` and the image carries its version, git sha and build date
as OCI labels, so any machine that can read the registry turns a version into
``name@digest`` with :func:`find_build`. A JSON copy under the repository's
git directory (``.git/relkit/builds/<version>.json``) is a cache that spares
the registry round trip on the machine that built; it is never the only copy.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from relkit import git
from relkit.build_plan import OCI, docker_tag, image_tags
from relkit.config import Config
from relkit.errors import DockerError
from relkit.version import parse

SCHEMA = 1


@dataclass(frozen=True)
class BuiltImage:
    name: str
    tags: tuple[str, ...]
    image_id: str | None
    digest: str | None  # None until pushed

    @property
    def ref(self) -> str:
        """``name@digest`` — how deploys pin the image."""
        if self.digest is None:
            raise DockerError(
                f"{self.name} was built but never pushed, so it has no digest",
                "push it: relkit build --push",
            )
        return f"{self.name}@{self.digest}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tags": list(self.tags),
            "image_id": self.image_id,
            "digest": self.digest,
            "ref": f"{self.name}@{self.digest}" if self.digest else None,
        }


@dataclass(frozen=True)
class BuildRecord:
    version: str
    git_sha: str
    created: str
    images: Mapping[str, BuiltImage]
    origin: str = "build"  # "build", "cache" or "registry": where this copy came from
    built_as: str | None = None  # the pre-release these images were built and tested as

    def image(self, name: str) -> BuiltImage:
        try:
            return self.images[name]
        except KeyError:
            raise DockerError(
                f"the build of {self.version} has no image {name!r}",
                f"it has: {', '.join(self.images) or 'none'}",
            ) from None

    @property
    def pushed(self) -> bool:
        return all(image.digest for image in self.images.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "git_sha": self.git_sha,
            "created": self.created,
            "images": [image.as_dict() for image in self.images.values()],
            **({"built_as": self.built_as} if self.built_as else {}),
        }


def record_from_dict(data: Mapping[str, Any], origin: str = "cache") -> BuildRecord:
    images = {
        str(item["name"]): BuiltImage(
            name=str(item["name"]),
            tags=tuple(item.get("tags") or ()),
            image_id=item.get("image_id"),
            digest=item.get("digest"),
        )
        for item in data.get("images", [])
    }
    return BuildRecord(
        version=str(data["version"]),
        git_sha=str(data["git_sha"]),
        created=str(data.get("created", "")),
        images=images,
        origin=origin,
        built_as=data.get("built_as"),
    )


def cache_dir(config: Config) -> Path | None:
    """``<git common dir>/relkit/builds`` (shared by worktrees), or None outside git."""
    if not git.is_repo(config.root):
        return None
    common = git.run(["rev-parse", "--git-common-dir"], config.root).strip()
    return (config.root / common).resolve() / "relkit" / "builds"


def save_record(config: Config, record: BuildRecord) -> Path | None:
    """Write the local cache copy of *record*; returns its path (None outside git)."""
    directory = cache_dir(config)
    if directory is None:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{docker_tag(record.version)}.json"
    cached = load_cached(config, record.version)
    images = dict(cached.images) if cached and cached.git_sha == record.git_sha else {}
    images.update(record.images)  # a build of one --image keeps the others' entries
    merged = {**record.as_dict(), "schema": SCHEMA}
    merged["images"] = [image.as_dict() for image in images.values()]
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(merged, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def load_cached(config: Config, version: str) -> BuildRecord | None:
    directory = cache_dir(config)
    if directory is None:
        return None
    path = directory / f"{docker_tag(version)}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return record_from_dict(data, origin="cache")
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no cache, or a damaged one: the registry answers instead


Lookup = Callable[[str, str], Any]


def _registry_lookup(name: str, tag: str) -> Any:
    import os

    from relkit.docker.auth import credentials_from_env
    from relkit.docker.registry import RegistryClient

    return RegistryClient(name, credentials_from_env(os.environ)).image(tag)


def find_build(config: Config, version: object, *, lookup: Lookup | None = None) -> BuildRecord:
    """The pushed build of *version* of every configured image: digest, tags, id, git sha.

    Uses the local cache when it holds a pushed build of every image; otherwise
    asks the registry for ``name:{version}`` (RegistryUnavailable, exit 69,
    when it does not answer; DockerError when the tag is not there).
    """
    text = str(version)
    if not config.images:
        raise DockerError("no images configured", "add [[tool.relkit.images]] entries")
    cached = load_cached(config, text)
    names = [image.name for image in config.images]
    if cached and all(cached.images.get(n) and cached.images[n].digest for n in names):
        return BuildRecord(
            cached.version,
            cached.git_sha,
            cached.created,
            {n: cached.images[n] for n in names},
            origin="cache",
            built_as=cached.built_as,
        )
    lookup = lookup or _registry_lookup
    tag = docker_tag(text)
    images: dict[str, BuiltImage] = {}
    git_sha = created = ""
    built_as: str | None = None
    for name in names:
        remote = lookup(name, tag)
        labels = remote.labels
        found_version = labels.get(f"{OCI}version")
        # An image built outside relkit has no version label: the tag is all there is.
        # A promoted release carries the label of the pre-release it was tested as.
        if (
            found_version is not None
            and found_version != text
            and not _promoted(config, found_version, text)
        ):
            raise DockerError(
                f"{name}:{tag} in the registry is labelled version {found_version!r}, not {text!r}",
                "the tag was overwritten by another build: rebuild and push this version",
            )
        if found_version is not None and found_version != text:
            built_as = found_version
        sha = labels.get(f"{OCI}revision", "")
        git_sha = git_sha or sha
        created = created or labels.get(f"{OCI}created", "")
        tags = image_tags(parse(text, config.scheme), sha) if sha else (tag,)
        images[name] = BuiltImage(name, tags, remote.image_id, remote.digest)
    return BuildRecord(text, git_sha, created, images, origin="registry", built_as=built_as)


def _promoted(config: Config, labelled: str, wanted: str) -> bool:
    """Whether *labelled* is a pre-release of *wanted* (``relkit release`` promotes digests)."""
    from relkit.errors import VersionError

    try:
        pre, final = parse(labelled, config.scheme), parse(wanted, config.scheme)
    except VersionError:
        return False
    return pre.is_prerelease and not final.is_prerelease and pre.release == final.release
