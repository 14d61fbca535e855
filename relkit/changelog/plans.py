"""Changelog plans for a project: read the file, ask git, compute the edit; write nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from relkit import git
from relkit.changelog.edit import NEW_CHANGELOG, add_entries, add_missing_links, release_unreleased
from relkit.changelog.generate import Proposals, Seen, TagInfo, Tally, propose
from relkit.changelog.history import History, TagRef, take
from relkit.changelog.links import Forge, forge_from_base, forge_from_link, forge_from_remote
from relkit.changelog.model import Changelog, parse
from relkit.changelog.rebuild import OutOfOrder, build_all
from relkit.config import Config
from relkit.errors import ChangelogError, UsageError, VersionError
from relkit.files import FileEdit, Spliced, read_text
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


def forge_for(config: Config, in_repo: bool | None = None) -> Forge | None:
    """Where compare links point: ``changelog_link_base``, else the ``origin`` remote.

    *in_repo* says whether config.root is in a git repository, when known.
    """
    if config.changelog_link_base:
        return forge_from_base(config.changelog_link_base, config.changelog_forge)
    if not (git.is_repo(config.root) if in_repo is None else in_repo):
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


def _edit(config: Config, old: str | None, new: str | Spliced) -> FileEdit:
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
        return self.edit is not None and self.edit.changes


def plan_generate(
    config: Config, *, since: str | None = None, all_history: bool = False, force: bool = False
) -> GeneratePlan:
    if all_history and since is None:
        # git has been reading the history since the executable started, or
        # starts now, while the changelog is read and parsed.
        history = take(config.root)
        tags = release_tags(config, history.refs)
        try:
            return _plan_all(config, history, tags, force)
        except OutOfOrder:
            history.close()
            history = History(config.root, history.refs, topo=True)
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


def _plan_all(
    config: Config, history: History, tags: dict[str, TagInfo], force: bool
) -> GeneratePlan:
    """``generate --all``: the whole changelog from *history* (its git processes running)."""
    doc, old = read(config)
    # git found HEAD: a repository (else ask, to tell none from one without commits).
    if history.upper.head is None and not git.is_repo(config.root):
        raise ChangelogError(f"{config.root} is not a git repository", "run it inside one")
    # A new file: links are added once the releases are in.
    base = doc if doc is not None else parse(NEW_CHANGELOG, config.changelog)
    forge = forge_for(config, in_repo=True)

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


def release_tags(config: Config, refs: list[TagRef]) -> dict[str, TagInfo]:
    """The release tags of the scheme among *refs*, by name."""
    from relkit.bump_plan import version_of_tag

    infos = {}
    for ref in refs:
        version = version_of_tag(config, ref.name)
        if version is not None:
            infos[ref.name] = TagInfo(str(version), ref.date, ref.commit)
    return infos


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
