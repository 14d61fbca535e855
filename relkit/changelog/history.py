"""HEAD's whole history for ``changelog generate --all``, read by git while relkit starts.

Reading every commit is most of the work, and it is git's: relkit reads what
git prints. So the git processes start first, before the command line is
parsed when the command line asks for ``changelog generate --all``
(:func:`start_early`, called by the executable), and the command takes them
over (:func:`take`). This module imports little, for that reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from relkit import git

if TYPE_CHECKING:
    from pathlib import Path

FIELDS = ("%H", "%P", "%D", "%B")
_SEP = "\x1f"
_REF_FIELDS = (
    "%(refname:strip=2)",
    "%(creatordate:short)",
    "%(objecttype)",
    "%(objectname)",
    "%(*objecttype)",
    "%(*objectname)",
)


class TagRef:
    """A tag: its name, date (YYYY-MM-DD: the tagger's, or the commit's for a
    lightweight tag) and the sha of the commit it tags ("" for anything else)."""

    __slots__ = ("commit", "date", "name")

    def __init__(self, name: str, date: str, commit: str) -> None:
        self.name = name
        self.date = date
        self.commit = commit


def tag_refs(root: Path | str) -> list[TagRef]:
    """Every tag with its date and commit; nothing (no error) outside a git repository."""
    code, out, _ = git.run_status(
        ["for-each-ref", f"--format={_SEP.join(_REF_FIELDS)}", "refs/tags"], root
    )
    if code != 0:
        return []
    refs = []
    for line in out.splitlines():
        name, date, kind, sha, peeled_kind, peeled = line.split(_SEP)
        if peeled_kind:  # an annotated tag: the commit is what it points to
            kind, sha = peeled_kind, peeled
        refs.append(TagRef(name, date, sha if kind == "commit" else ""))
    return refs


def middle(refs: list[TagRef]) -> str | None:
    """The commit of the tag in the middle by date, when there are a few tags."""
    dated = sorted((ref.date, ref.commit) for ref in refs if ref.commit)
    if len(dated) < 4:
        return None
    return dated[len(dated) // 2][1]


class History:
    """``(sha, parents, tags, message)`` records of HEAD's history, each commit after its children.

    git spends its time reading commits, one at a time. With a tag near the
    middle of the history, two processes share that: one reads from HEAD down
    (read as it comes, through a pipe that holds a megabyte, so it can run
    ahead) and is stopped when it reaches the tag, while the other reads the
    tag's own history into a temporary file, read after the first. (``TAG..HEAD``
    would read the first half alone, but git walks such a range to its end
    before it prints anything.) The two together are HEAD's history in that
    order when git's order shows every commit above the tag before the tag, as
    it does unless a committer clock ran behind; the reader
    (:class:`relkit.changelog.rebuild.ReleaseWalk`) sees a commit missed or
    read twice, and the caller reads the history again with ``topo=True``: one
    process, ``--topo-order``. When the first process never meets the tag (not
    in HEAD's history), it has read everything.
    """

    def __init__(self, root: Path | str, refs: list[TagRef], *, topo: bool = False) -> None:
        self.root = root
        self.refs = refs
        options = ("--decorate-refs=refs/tags/", *(("--topo-order",) if topo else ()))
        self.middle = None if topo else middle(refs)
        self.upper = git.LogStream(root, FIELDS, options=options, pipe_size=1 << 20)
        self.lower: git.LogStream | None = None
        if self.middle is not None and self.upper.head is not None:
            self.lower = git.LogStream(
                root, FIELDS, self.middle, options=options, to_file=True, head=self.upper.head
            )

    def __iter__(self) -> Iterator[list[str]]:
        for record in self.upper:
            if record[0] == self.middle and self.lower is not None:
                self.upper.close()
                yield from self.lower
                return
            yield record
        if self.lower is not None:
            self.lower.close()

    def close(self) -> None:
        self.upper.close()
        if self.lower is not None:
            self.lower.close()


_early: History | None = None


def wanted(argv: list[str]) -> bool:
    """True for ``changelog generate --all`` without ``--since`` or ``--help``."""
    if argv[:2] != ["changelog", "generate"] or "--all" not in argv:
        return False
    return not any(
        arg in ("-h", "--help", "--since") or arg.startswith("--since=") for arg in argv[2:]
    )


def start_early(argv: list[str]) -> None:
    """Start reading the history in the current directory if *argv* will need it."""
    global _early
    if wanted(argv) and _early is None:
        import atexit

        root = os.getcwd()
        _early = History(root, tag_refs(root))
        atexit.register(_drop_early)  # a command that fails before take() leaves no git behind


def _drop_early() -> None:
    global _early
    if _early is not None:
        _early.close()
        _early = None


def take(root: Path) -> History:
    """The history of the repository at *root*: the one started early, or a new one."""
    global _early
    early, _early = _early, None
    if early is not None:
        if os.path.samefile(early.root, root):
            return early
        early.close()  # started in another directory than the project's: not this one
    return History(root, tag_refs(root))
