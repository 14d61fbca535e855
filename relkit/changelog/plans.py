"""Changelog plans for a project: read the file, ask git, compute the edit; write nothing."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from relkit import git
from relkit.changelog.edit import NEW_CHANGELOG, add_entries, add_missing_links, release_unreleased
from relkit.changelog.generate import Proposals, Seen, TagInfo, Tally, propose
from relkit.changelog.links import Forge, forge_from_base, forge_from_link, forge_from_remote
from relkit.changelog.model import Changelog, parse
from relkit.changelog.rebuild import OutOfOrder, build_all
from relkit.config import Config
from relkit.errors import ChangelogError, UsageError, VersionError
from relkit.files import FileEdit, read_text
from relkit.version import Version
from relkit.version import parse as parse_version

TYPES = ("added", "changed", "deprecated", "removed", "fixed", "security")


def path_of(config: Config) -> Path:
    return config.root / config.changelog


def read(config: Config) -> tuple[Changelog | None, str | None]:
    """The parsed changelog and its text, or ``(None, None)`` when there is no file."""
    text = read_text(path_of(config))
    if text is None:
        return None, None
    return parse(text, config.changelog), text


def require(config: Config) -> Changelog:
    doc, _ = read(config)
    if doc is None:
        raise ChangelogError(
            f"{config.changelog} does not exist",
            "create it with 'relkit changelog add' or 'relkit changelog generate --all'",
        )
    return doc


def forge_for(config: Config) -> Forge | None:
    """Where compare links point: ``changelog_link_base``, else the ``origin`` remote."""
    if config.changelog_link_base:
        return forge_from_base(config.changelog_link_base, config.changelog_forge)
    if not git.is_repo(config.root):
        return None
    remote = git.config_value(config.root, "remote.origin.url")
    return forge_from_remote(remote, config.changelog_forge) if remote else None


def new_changelog(config: Config) -> Changelog:
    """A fresh Keep a Changelog file, with the Unreleased link when the forge is known."""
    doc = parse(NEW_CHANGELOG, config.changelog)
    forge = forge_for(config)
    if forge is None:
        return doc
    return parse(add_missing_links(doc, forge, _tag_for(config)), config.changelog)


def _edit(config: Config, old: str | None, new: str) -> FileEdit:
    return FileEdit(path_of(config), config.changelog, old, new)


def plan_add(config: Config, kind: str, message: str) -> FileEdit:
    """An entry under Unreleased in the ``###`` section of *kind*."""
    if kind.lower() not in TYPES:
        raise UsageError(f"unknown change type {kind!r}", f"use one of: {', '.join(TYPES)}")
    if not message.strip():
        raise UsageError("the message is empty", "say what changed")
    doc, old = read(config)
    if doc is None:
        doc = new_changelog(config)
    new = add_entries(doc, {kind.capitalize(): [message.strip("\n")]})
    return _edit(config, old, new)


@dataclass(frozen=True)
class GeneratePlan:
    edit: FileEdit | None  # None: nothing to add
    tally: Tally
    since: str | None

    @property
    def changed(self) -> bool:
        return self.edit is not None and self.edit.old != self.edit.new


def plan_generate(
    config: Config, *, since: str | None = None, all_history: bool = False, force: bool = False
) -> GeneratePlan:
    if all_history and since is None:
        # The tags first: they say where to split the history between two git
        # processes, which walk it while the changelog is read and parsed.
        tags = release_tag_infos(config)
        history = _History(config, tags)
        try:
            return _plan_all(config, history, tags, force)
        except OutOfOrder:
            history.close()
            history = _History(config, tags, "--topo-order")
            return _plan_all(config, history, tags, force)
        finally:
            history.close()
    from relkit.bump_plan import last_tag

    doc, old = read(config)
    base = doc if doc is not None else new_changelog(config)
    if not git.is_repo(config.root):
        raise ChangelogError(f"{config.root} is not a git repository", "run it inside one")
    tally = Tally()
    if all_history:  # with --since (--all alone is planned by _plan_all)
        raise UsageError("--all and --since do not go together", "choose one")
    ref = since if since is not None else last_tag(config)
    records = git.log_records(config.root, ("%H", "%B"), f"{ref}..HEAD" if ref else None)
    found: Proposals = propose(((r[0], r[1]) for r in records), Seen(doc), tally)
    if not len(found):
        return GeneratePlan(None, tally, ref)
    return GeneratePlan(_edit(config, old, add_entries(base, found.sections)), tally, ref)


class _History:
    """HEAD's whole history for ``generate --all``: ``(sha, parents, tags, message)`` records.

    git spends its time reading commits, one at a time. With a release tag
    near the middle of the history, two processes share that: one reads from
    HEAD down to the tag (``TAG..HEAD``, read as it comes) while the other
    reads the tag's own history into a temporary file, read after the first.
    The two together are HEAD's history, each commit after its children,
    whenever the tag is in it (then only a merge can bring a commit of the
    tag's history before the tag, and that commit still comes after its
    children). A history where the tag is not HEAD's fails
    :class:`relkit.changelog.rebuild.ReleaseWalk`'s check or the one
    here, and the caller reads it again with ``--topo-order``, which also
    reads it in one process.
    """

    FIELDS = ("%H", "%P", "%D", "%B")

    def __init__(self, config: Config, tags: dict[str, TagInfo], *options: str) -> None:
        options = ("--decorate-refs=refs/tags/", *options)
        middle = None if "--topo-order" in options else _middle(tags)
        if middle is None:
            self.streams = [git.LogStream(config.root, self.FIELDS, options=options)]
            return
        upper = git.LogStream(config.root, self.FIELDS, f"{middle}..HEAD", options=options)
        self.streams = [upper]
        if upper.head is not None:
            lower = git.LogStream(
                config.root, self.FIELDS, middle, options=options, to_file=True, head=upper.head
            )
            self.streams.append(lower)

    def __iter__(self) -> Iterator[list[str]]:
        first, *rest = self.streams
        empty = True
        for record in first:
            empty = False
            yield record
        for stream in rest:
            for record in stream:
                if empty and record[0] != first.head:
                    raise OutOfOrder(record[0])  # the tag is above HEAD
                empty = False
                yield record

    def close(self) -> None:
        for stream in self.streams:
            stream.close()


def _middle(tags: dict[str, TagInfo]) -> str | None:
    """The commit of the release tag in the middle by date, if there are a few tags."""
    dated = sorted((info.date, info.commit) for info in tags.values() if info.commit)
    if len(dated) < 4:
        return None
    return dated[len(dated) // 2][1]


def _plan_all(
    config: Config, history: Iterable[list[str]], tags: dict[str, TagInfo], force: bool
) -> GeneratePlan:
    """``generate --all``: the whole changelog from *history* (its git processes running)."""
    doc, old = read(config)
    if not git.is_repo(config.root):
        raise ChangelogError(f"{config.root} is not a git repository", "run it inside one")
    # A new file: links are added once the releases are in.
    base = doc if doc is not None else parse(NEW_CHANGELOG, config.changelog)
    forge = forge_for(config)

    text, tally = build_all(
        base,
        history,
        tags,
        _order(config),
        force=force,
        forge=forge,
        tag_for=_tag_for(config),
    )
    return GeneratePlan(_edit(config, old, text), tally, None)


def release_tag_infos(config: Config) -> dict[str, TagInfo]:
    """Release tags of the scheme with their dates (the tagger's, or the commit's) and commits.

    Nothing (no error) outside a git repository: the caller says what is wrong.
    """
    from relkit.bump_plan import version_of_tag

    fields = (
        "%(refname:strip=2)",
        "%(creatordate:short)",
        "%(objecttype)",
        "%(objectname)",
        "%(*objecttype)",
        "%(*objectname)",
    )
    code, out, _ = git.run_status(
        ["for-each-ref", f"--format={FIELD.join(fields)}", "refs/tags"], config.root
    )
    if code != 0:
        return {}
    infos = {}
    for line in out.splitlines():
        name, date, kind, sha, peeled_kind, peeled = line.split(FIELD)
        version = version_of_tag(config, name)
        if version is not None:
            if peeled_kind:  # an annotated tag: the commit is what it points to
                kind, sha = peeled_kind, peeled
            infos[name] = TagInfo(str(version), date, sha if kind == "commit" else "")
    return infos


FIELD = "\x1f"


def _tag_for(config: Config) -> Any:
    return lambda version: config.tag_for(version)


def _order(config: Config) -> Any:
    def key(label: str) -> tuple[int, Version | str]:
        try:
            return (1, parse_version(label, config.scheme))
        except VersionError:
            return (0, label)

    return key


def release_date(text: str | None) -> str:
    """*text* checked as YYYY-MM-DD, or today's date in UTC."""
    import datetime as dt

    if text is None:
        return dt.datetime.now(dt.UTC).date().isoformat()
    try:
        if len(text) != 10:
            raise ValueError(text)
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise UsageError(f"--date {text!r} is not a date", "write it as YYYY-MM-DD") from None


def release_edits(config: Config, date: str, allow_empty: bool) -> Any:
    """The ``extra_edits`` hook of :func:`relkit.bump_plan.plan_bump`: release Unreleased."""

    def edits(old: Version, new: Version) -> Sequence[FileEdit]:
        doc, text = read(config)
        if doc is None:
            return ()
        forge = forge_for(config)
        link = doc.link("Unreleased")
        if forge is None and link is not None:
            forge = forge_from_link(link.url, config.changelog_forge)
        old_tag = config.tag_for(old)
        has_old_tag = git.is_repo(config.root) and git.tag_exists(config.root, old_tag)
        released = release_unreleased(
            doc,
            str(new),
            date,
            forge=forge,
            tag_for=_tag_for(config),
            allow_empty=allow_empty,
            previous_tag=old_tag if has_old_tag else None,
        )
        return (_edit(config, text, released),)

    return edits
