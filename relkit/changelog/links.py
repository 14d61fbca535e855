"""Compare links for each forge: GitHub, GitLab, Gitea/Forgejo and Bitbucket URL forms."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

FORGES = ("github", "gitlab", "gitea", "bitbucket")


@dataclass(frozen=True)
class Forge:
    """A repository's web address and the URL forms of its forge."""

    kind: str  # one of FORGES
    base: str  # e.g. https://github.com/acme/api (no trailing slash)

    def compare(self, old: str, new: str) -> str:
        if self.kind == "gitlab":
            return f"{self.base}/-/compare/{old}...{new}"
        if self.kind == "bitbucket":
            return f"{self.base}/branches/compare/{new}%0D{old}"
        return f"{self.base}/compare/{old}...{new}"

    def first(self, tag: str) -> str:
        """The link of a first release (nothing to compare with)."""
        if self.kind == "gitlab":
            return f"{self.base}/-/tags/{tag}"
        if self.kind == "bitbucket":
            return f"{self.base}/src/{tag}"
        return f"{self.base}/releases/tag/{tag}"

    def head(self, old: str | None) -> str:
        """The link of Unreleased: everything since *old* (or all commits)."""
        if old is not None:
            return self.compare(old, "HEAD")
        if self.kind == "gitlab":
            return f"{self.base}/-/commits/HEAD"
        if self.kind == "bitbucket":
            return f"{self.base}/commits/"
        return f"{self.base}/commits/HEAD"


def guess_kind(host: str) -> str:
    host = host.lower()
    if "gitlab" in host:
        return "gitlab"
    if "bitbucket" in host:
        return "bitbucket"
    if any(name in host for name in ("gitea", "forgejo", "codeberg")):
        return "gitea"
    return "github"


_SCP = re.compile(r"^(?:[\w.-]+@)?(?P<host>[\w.-]+):(?!//)(?P<path>.+)$")
_URL = re.compile(r"^(?:https?|ssh|git)://(?:[^@/]+@)?(?P<host>[^/:]+)(?::\d+)?/(?P<path>.+)$")


def forge_from_remote(remote: str, kind: str | None = None) -> Forge | None:
    """The web address of a git remote URL (https, ssh:// or scp-like ``git@host:o/r.git``)."""
    remote = remote.strip()
    match = _URL.match(remote) or _SCP.match(remote)
    if match is None:
        return None
    host, path = match.group("host"), match.group("path").strip("/")
    if path.endswith(".git"):
        path = path[:-4]
    if not path or "/" not in path:
        return None
    return Forge(kind or guess_kind(host), f"https://{host}/{path}")


def forge_from_base(base: str, kind: str | None = None) -> Forge:
    base = base.rstrip("/")
    host = re.sub(r"^\w+://", "", base).split("/", 1)[0]
    return Forge(kind or guess_kind(host), base)


_COMPARES = (
    re.compile(r"/-/compare/(?P<old>[^/]+?)\.\.\.?(?P<new>[^/]+)$"),
    re.compile(r"/branches/compare/(?P<new>[^/]+?)(?:%0D|\r)(?P<old>[^/]+)$", re.IGNORECASE),
    re.compile(r"/compare/(?P<old>[^/]+?)\.\.\.?(?P<new>[^/]+)$"),
)


def compare_range(url: str) -> tuple[str, str] | None:
    """``(old, new)`` refs of a compare URL of any of the forges, None for other URLs."""
    for pattern in _COMPARES:
        match = pattern.search(url)
        if match:
            return unquote(match.group("old")), unquote(match.group("new"))
    return None


_LINK_BASE = re.compile(
    r"^(?P<base>https?://.+?)(?P<form>/-/compare/|/-/commits/|/-/tags/|/branches/compare/"
    r"|/compare/|/commits/|/releases/tag/|/src/)"
)


def forge_from_link(url: str, kind: str | None = None) -> Forge | None:
    """The forge behind an existing compare or tag link (when there is no origin remote)."""
    match = _LINK_BASE.match(url)
    if match is None:
        return None
    form = match.group("form")
    if kind is None and form.startswith("/-/"):
        kind = "gitlab"
    elif kind is None and form == "/branches/compare/":
        kind = "bitbucket"
    return forge_from_base(match.group("base"), kind)
