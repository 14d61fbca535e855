"""Plan a version bump (every edit computed and checked in memory), then apply it."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from relkit import git, versionfiles
from relkit.config import Config
from relkit.errors import GitError, RelkitError, VersionError, VersionFileError
from relkit.files import FileEdit, apply_edits, restore_edits
from relkit.version import Version, parse
from relkit.version.bump import bump, bump_to


@dataclass(frozen=True)
class CurrentVersion:
    version: Version
    sources: tuple[tuple[str, str], ...]  # (file, version text) for each file


@dataclass(frozen=True)
class BumpPlan:
    previous: Version
    version: Version
    edits: tuple[FileEdit, ...]
    commit_message: str | None
    tag: str | None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, object]:
        return {
            "previous": str(self.previous),
            "version": str(self.version),
            "files": [edit.relpath for edit in self.edits],
            "commit": self.commit_message,
            "tag": self.tag,
        }


def current_version(config: Config) -> CurrentVersion:
    """The version all version files agree on."""
    files = versionfiles.detect(config)
    if not files:
        raise VersionFileError(
            f"no version file found in {config.root}",
            "add a VERSION file, or list files under version_files in the config",
        )
    sources: list[tuple[str, str]] = []
    for item in files:
        text = versionfiles.read_text(config.root, item)
        sources.append((item.path, versionfiles.version_in(text, item, config.root)))
    values = {value for _, value in sources}
    if len(values) > 1:
        listing = "; ".join(f"{path} says {value}" for path, value in sources)
        raise VersionFileError(
            f"the version files disagree: {listing}",
            "make them agree (or run 'relkit bump --to X.Y.Z --allow-dirty' after fixing)",
        )
    text = values.pop()
    try:
        version = parse(text, config.scheme)
    except VersionError as exc:
        raise VersionError(f"{sources[0][0]}: {exc.message}", exc.hint) from None
    return CurrentVersion(version, tuple(sources))


def tag_glob(config: Config) -> str:
    return config.tag_format.replace("{version}", "*")


def version_of_tag(config: Config, tag: str) -> Version | None:
    prefix, _, suffix = config.tag_format.partition("{version}")
    if not tag.startswith(prefix) or not tag.endswith(suffix):
        return None
    text = tag[len(prefix) : len(tag) - len(suffix) if suffix else None]
    try:
        return parse(text, config.scheme)
    except VersionError:
        return None


def release_tags(config: Config, merged: bool = False) -> list[tuple[Version, str]]:
    """Tags that name a version of the scheme, oldest version first."""
    if not git.is_repo(config.root):
        return []
    found = []
    for tag in git.tags(config.root, tag_glob(config), merged=merged):
        version = version_of_tag(config, tag)
        if version is not None:
            found.append((version, tag))
    return sorted(found, key=lambda item: item[0])


def last_tag(config: Config) -> str | None:
    """The newest version's tag among the release tags reachable from HEAD."""
    scan = _TagScan(config)
    for _ in scan.messages():
        pass
    return scan.tag if scan.tag_known else _last_merged_tag(config)


def _last_merged_tag(config: Config) -> str | None:
    tags = release_tags(config, merged=True)
    return tags[-1][1] if tags else None


class _TagScan:
    """One ``git log`` from HEAD that stops at the first commit carrying a release tag.

    ``git tag --merged`` has to test every tag for reachability (75 ms on 20k
    commits / 100 tags); the newest release is nearly always the first tagged
    commit under HEAD. The scan's answer is taken only when it is certainly the
    same as ``--merged``'s (the newest version among the reachable release tags):

    - ``tag_known``: the first release-tagged commit carries the newest version
      of *all* the release tags (so no reachable tag is newer), or no release
      tag is reachable at all (the scan read the whole history). Otherwise
      (e.g. HEAD checked out below a newer tag, or a newer tag on a maintenance
      branch merged in) the caller asks ``git tag --merged``.
    - ``exact``: the messages read before the tag are exactly ``TAG..HEAD``:
      ``tag_known``, and no merge commit among them (a linear history is one
      chain; with merges, date order can interleave commits of other branches,
      so the caller reads ``TAG..HEAD`` again).

    Only tags of the configured format whose version parses count, as in
    :func:`release_tags`; tags of other prefixes or schemes are ignored.
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self.tag: str | None = None
        self.tag_known = False
        self.linear = True

    @property
    def exact(self) -> bool:
        return self.tag_known and self.linear

    def messages(self) -> Iterator[str]:
        """Messages from HEAD down to (not including) the first release-tagged commit."""
        tags = release_tags(self.config)
        if not tags:
            return
        names = {name for _, name in tags}
        newest = tags[-1][1]
        seen = False
        records = git.log_records(
            self.config.root, ("%P", "%D", "%B"), options=("--decorate-refs=refs/tags/",)
        )
        for parents, refs, message in records:
            seen = True
            if refs:
                found = [name for name in git.decoration_tags(refs) if name in names]
                if found:
                    if newest in found:
                        self.tag, self.tag_known = newest, True
                    return
            if " " in parents.strip():
                self.linear = False
            yield message.strip("\n")
        # No release tag under HEAD: every commit of HEAD was read (with or without
        # merges, the same set as an unbounded log). An unborn HEAD reads nothing.
        self.tag_known = seen
        self.linear = True


def commits_since(config: Config, ref: str | None) -> Iterator[git.Commit]:
    return git.log(config.root, f"{ref}..HEAD" if ref else None)


def next_version(config: Config, current: Version, part: str, pre: str | None) -> Version:
    if part != "auto":
        return bump(current, part, pre)
    from relkit.conventional import next_part

    scan = _TagScan(config)
    found, conventional, skipped = next_part(scan.messages(), zero_major=current.major == 0)
    if scan.exact:
        since = scan.tag
    else:
        since = scan.tag if scan.tag_known else _last_merged_tag(config)
        messages = (commit.message for commit in commits_since(config, since))
        found, conventional, skipped = next_part(messages, zero_major=current.major == 0)
    if found is None:
        where = f"since {since}" if since else "in the history"
        raise VersionError(
            f"nothing to release {where}: {conventional} conventional commit(s) with no"
            f" feat, fix, perf or breaking change, {skipped} not conventional",
            "commit a feat/fix, or choose the part yourself (relkit bump patch)",
        )
    return bump(current, found, pre)


ExtraEdits = Callable[[Version, Version], Sequence[FileEdit]]


def plan_bump(
    config: Config,
    *,
    part: str | None = None,
    pre: str | None = None,
    to: str | None = None,
    allow_dirty: bool = False,
    commit: bool = True,
    tag: bool = False,
    extra_edits: ExtraEdits | None = None,
) -> BumpPlan:
    """Compute and check everything a bump will do; change nothing."""
    current = current_version(config)
    if to is not None:
        new = bump_to(current.version, parse(to, config.scheme))
    elif part is not None:
        new = next_version(config, current.version, part, pre)
    else:
        raise VersionError("nothing to bump", "give a PART or --to X.Y.Z")
    in_repo = git.is_repo(config.root)
    if (commit or tag) and not in_repo:
        raise GitError(f"{config.root} is not a git repository", "use --no-commit, or git init")
    if in_repo:
        _check_repo(config, new, allow_dirty=allow_dirty)
    edits: list[FileEdit] = []
    for item in versionfiles.detect(config):
        path = config.root / item.path
        text = versionfiles.read_text(config.root, item)
        new_text = versionfiles.replace_version(config.root, item, text, str(new))
        edits.append(FileEdit(path, item.path, text, new_text))
    if extra_edits is not None:
        edits.extend(extra_edits(current.version, new))
    return BumpPlan(
        previous=current.version,
        version=new,
        edits=tuple(edits),
        commit_message=config.commit_message.format(version=new) if commit else None,
        tag=config.tag_for(new) if tag else None,
    )


def uncommitted(config: Config) -> list[str]:
    """Uncommitted changes that stop a release. The changelog is not one of them:
    ``relkit changelog add`` then ``relkit bump`` is the way to release, and the
    release commit takes the changelog with it."""
    root = config.root
    changelog = (root / config.changelog).resolve()
    try:
        relative = changelog.relative_to(git.toplevel(root).resolve()).as_posix()
    except ValueError:
        relative = None
    return [path for path in git.dirty_paths(root) if path != relative]


def _check_repo(config: Config, new: Version, *, allow_dirty: bool) -> None:
    root = config.root
    if not allow_dirty:
        dirty = uncommitted(config)
        if dirty:
            shown = ", ".join(dirty[:5]) + (" …" if len(dirty) > 5 else "")
            raise GitError(
                f"the working tree has uncommitted changes: {shown}",
                "commit or stash them, or pass --allow-dirty",
            )
    branch = git.current_branch(root)
    if config.release_branches and branch not in config.release_branches:
        raise GitError(
            f"{'HEAD is detached' if branch is None else f'branch {branch!r}'} is not a release"
            f" branch ({', '.join(config.release_branches)})",
            "switch to a release branch, or set release_branches in the config",
        )
    new_tag = config.tag_for(new)
    if git.tag_exists(root, new_tag):
        raise GitError(f"tag {new_tag} already exists", "choose another version with --to")
    existing = release_tags(config)
    if existing and not new > existing[-1][0]:
        raise VersionError(
            f"{new} is not greater than the latest tag {existing[-1][1]}",
            f"choose a version above {existing[-1][0]} with --to",
        )


def apply_bump(config: Config, plan: BumpPlan, sign: bool = False) -> str | None:
    """Write the files, commit and tag; on a failed commit every file goes back.

    Returns the release commit's sha (None with --no-commit).
    """
    apply_edits(plan.edits)
    sha = None
    if plan.commit_message is not None:
        try:
            sha = git.commit_paths(
                config.root, [e.relpath for e in plan.edits], plan.commit_message
            )
        except RelkitError:
            restore_edits(plan.edits)
            raise
    if plan.tag is not None:
        from relkit.tags import release_message

        git.create_tag(config.root, plan.tag, release_message(config, str(plan.version)), sign=sign)
    return sha


def relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
