"""Generate a deterministic git repository for benchmarks, through `git fast-import`.

    python bench/gen_repo.py DEST --commits 20000 --tag-every 200 --seed 1

The history is one branch, `main`, with N commits. Commit messages follow
Conventional Commits in a mix close to a busy service repository: feat, fix,
perf, refactor, docs, chore, style, test, ci, build and revert, half of them
scoped, about a third with a multi-line body and footers, a rare breaking change
(`!` after the type or a `BREAKING CHANGE:` footer) and about one in twelve not
conventional at all ("WIP", "Merge branch ...", "Revert \"...\"").

Releases: every K commits a release commit `chore(release): X.Y.Z` sets
`[project] version` in pyproject.toml and carries an annotated tag `vX.Y.Z`
(`--lightweight` for lightweight tags). X.Y.Z is what the commits since the
previous release ask for under SemVer: a breaking change bumps major, a feat
minor, a fix or perf patch; a release of only other types bumps patch. The
first release starts from 0.0.0. The tags are placed so that the last
`--unreleased` commits (default K/2) come after the last tag: 20000 commits with
a tag every 200 give 100 tags and 100 unreleased commits, which is what
"next version" and "changelog" commands have to read.

Everything (messages, files, authors, dates, tags) derives from the seed and
the arguments: the same arguments give the same commit hashes.

The tree holds a Python-looking project: pyproject.toml, CHANGELOG.md (Keep a
Changelog header and an empty Unreleased section; not updated by releases, so
tools that regenerate it start from a clean file), README.md, src/, tests/,
docs/, a CI workflow and a Dockerfile. Commits touch one to three files that
fit their type.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

EPOCH = 1_546_300_800  # 2019-01-01T00:00:00Z: first commit's author date
SPAN = 6 * 365 * 86400  # the whole history spans about six years, whatever its length

AUTHORS = [
    ("Ada Lindqvist", "ada@example.com", "+0100"),
    ("Bruno Ferreira", "bruno@example.com", "-0300"),
    ("Chen Wei", "chen.wei@example.com", "+0800"),
    ("Dara O'Neill", "dara@example.com", "+0000"),
    ("Emeka Okafor", "emeka@example.com", "+0100"),
    ("Farah Haddad", "farah@example.com", "+0200"),
    ("Gustav Berg", "gustav@example.com", "+0100"),
    ("Hana Sato", "hana@example.com", "+0900"),
    ("Isabel Ruiz", "isabel@example.com", "-0500"),
    ("Jonas Weber", "jonas@example.com", "+0100"),
    ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com", "+0000"),
]
RELEASER = ("Release Bot", "release-bot@example.com", "+0000")

# (type, weight); "other" is a non-conventional message.
TYPES = [
    ("feat", 20),
    ("fix", 24),
    ("perf", 3),
    ("refactor", 8),
    ("docs", 8),
    ("chore", 8),
    ("style", 3),
    ("test", 7),
    ("ci", 3),
    ("build", 3),
    ("revert", 1),
    ("other", 8),
]
SCOPES = [
    "api",
    "cli",
    "db",
    "auth",
    "config",
    "deploy",
    "docker",
    "changelog",
    "core",
    "ui",
    "deps",
    "migrations",
    "security",
    "cache",
    "metrics",
]
VERBS = {
    "feat": ["add", "support", "introduce", "allow", "expose", "enable"],
    "fix": ["fix", "handle", "correct", "guard against", "avoid", "prevent"],
    "perf": ["speed up", "cache", "batch", "stream", "avoid copying in"],
    "refactor": ["simplify", "extract", "split", "rename", "inline", "untangle"],
    "docs": ["document", "explain", "clarify", "fix typo in", "add example for"],
    "chore": ["bump", "tidy", "update", "clean up", "drop unused"],
    "style": ["format", "reorder imports in", "reflow", "lint"],
    "test": ["cover", "add tests for", "stabilise flaky test in", "parametrize"],
    "ci": ["run", "cache", "split", "retry", "pin"],
    "build": ["pin", "upgrade", "slim", "bump"],
}
OBJECTS = [
    "retry logic",
    "connection pool",
    "health endpoint",
    "version endpoint",
    "pagination",
    "rate limiter",
    "token refresh",
    "config loader",
    "migration runner",
    "backup job",
    "request logging",
    "error pages",
    "CSV export",
    "search index",
    "session store",
    "webhook delivery",
    "audit log",
    "user settings",
    "feature flags",
    "timezone handling",
    "unicode names",
    "empty payloads",
    "large uploads",
    "graceful shutdown",
    "TLS settings",
    "docker image",
    "compose file",
    "release workflow",
    "dependency cache",
    "metrics exporter",
    "password reset",
    "invite emails",
]
QUALIFIERS = [
    "",
    "",
    "",
    " for admins",
    " on startup",
    " in the worker",
    " under load",
    " when the database is down",
    " with empty input",
    " behind a proxy",
    " for long-running requests",
    " in dry-run mode",
]
OTHER_SUBJECTS = [
    "WIP",
    "wip: try another approach",
    "Update README.md",
    "fixed typo",
    "Merge branch 'main' into feature/{obj}",
    "Merge pull request #{n} from acme/{obj}",
    "more tests",
    "address review comments",
    "Initial work on {obj}",
    'Revert "{prev}"',
    "oops",
    "Apply suggestions from code review",
]
BODY_SENTENCES = [
    "The previous behaviour surprised users who upgraded from the old release.",
    "This keeps the public interface unchanged.",
    "Measured on the staging dataset: no regression.",
    "Callers that relied on the old default must now pass it explicitly.",
    "The edge case only shows with more than one worker.",
    "Tests cover the failure path as well.",
    "See the discussion in the design document for the trade-offs.",
    "Nothing changes for installs that use the defaults.",
    "Logs now name the offending key and file.",
    "It also removes a race between the two background tasks.",
]
FILES_BY_KIND = {
    "src": [
        f"src/app/{name}.py"
        for name in (
            "api",
            "cli",
            "db",
            "auth",
            "config",
            "deploy",
            "cache",
            "metrics",
            "models",
            "views",
            "tasks",
            "search",
            "export",
            "webhooks",
            "settings",
        )
    ],
    "tests": [
        f"tests/test_{name}.py"
        for name in (
            "api",
            "cli",
            "db",
            "auth",
            "config",
            "deploy",
            "cache",
            "models",
        )
    ],
    "docs": ["README.md", "docs/index.md", "docs/deploy.md", "docs/config.md", "docs/api.md"],
    "ci": [".github/workflows/ci.yml", ".github/workflows/release.yml"],
    "build": ["Dockerfile", "requirements.txt"],
}
KIND_FOR_TYPE = {
    "feat": ["src", "src", "tests", "docs"],
    "fix": ["src", "src", "tests"],
    "perf": ["src"],
    "refactor": ["src", "src", "tests"],
    "docs": ["docs"],
    "chore": ["build", "src", "docs"],
    "style": ["src", "tests"],
    "test": ["tests"],
    "ci": ["ci"],
    "build": ["build"],
    "revert": ["src"],
    "other": ["src", "tests", "docs"],
}
KEEP_LINES = 12  # a touched file keeps its last KEEP_LINES change lines: small blobs

CHANGELOG = """# Changelog

All notable changes to this project will be documented in this file.

The format is based on [Keep a Changelog](https://keepachangelog.com/en/1.1.0/),
and this project adheres to [Semantic Versioning](https://semver.org/spec/v2.0.0.html).

## [Unreleased]
"""

PYPROJECT = """[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "bench-service"
version = "{version}"
description = "A generated repository for release-tool benchmarks."
requires-python = ">=3.11"
"""


@dataclass
class Version:
    major: int = 0
    minor: int = 0
    patch: int = 0

    def bump(self, level: int) -> Version:
        """level: 3 major, 2 minor, 1 patch (0 counts as patch: a release always moves)."""
        if level == 3:
            return Version(self.major + 1, 0, 0)
        if level == 2:
            return Version(self.major, self.minor + 1, 0)
        return Version(self.major, self.minor, self.patch + 1)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


@dataclass
class Message:
    text: str
    level: int  # 3 breaking, 2 feat, 1 fix/perf, 0 none
    kind: str


@dataclass
class History:
    """State carried from commit to commit while the stream is written."""

    rng: random.Random
    when: int = EPOCH
    files: dict[str, list[str]] = field(default_factory=dict)
    subjects: list[str] = field(default_factory=list)


def make_message(rng: random.Random, history: History, serial: int) -> Message:
    kind = rng.choices([t for t, _ in TYPES], weights=[w for _, w in TYPES])[0]
    obj = rng.choice(OBJECTS)
    if kind == "other":
        template = rng.choice(OTHER_SUBJECTS)
        prev = history.subjects[-1] if history.subjects else "initial commit"
        subject = template.format(obj=obj.replace(" ", "-"), n=serial, prev=prev)
        body = (
            [f"This reverts commit {rng.getrandbits(160):040x}."]
            if subject.startswith("Revert")
            else []
        )
        return Message(_join(subject, body), 0, kind)
    if kind == "revert":
        prev = (
            history.subjects[-rng.randint(1, min(50, len(history.subjects)))]
            if (history.subjects)
            else "feat: initial"
        )
        subject = f"revert: {prev}"
        body = [f"This reverts commit {rng.getrandbits(160):040x}."]
        return Message(_join(subject, body), 0, kind)

    scope = f"({rng.choice(SCOPES)})" if rng.random() < 0.5 else ""
    bang = "!" if kind in ("feat", "fix", "refactor", "perf") and rng.random() < 0.001 else ""
    subject = f"{kind}{scope}{bang}: {rng.choice(VERBS[kind])} {obj}{rng.choice(QUALIFIERS)}"
    body: list[str] = []
    if rng.random() < 0.35:
        for _ in range(rng.randint(1, 3)):
            body.append(" ".join(rng.sample(BODY_SENTENCES, rng.randint(1, 3))))
    footers: list[str] = []
    breaking_footer = kind in ("feat", "fix", "refactor") and rng.random() < 0.001
    if breaking_footer:
        footers.append(f"BREAKING CHANGE: the {obj} setting is renamed; update your config.")
    if rng.random() < 0.15:
        footers.append(f"Refs: #{rng.randint(1, 4000)}")
    if rng.random() < 0.05:
        name, email, _ = rng.choice(AUTHORS[:-1])
        footers.append(f"Co-authored-by: {name} <{email}>")
    if footers:
        body.append("\n".join(footers))
    level = {"feat": 2, "fix": 1, "perf": 1}.get(kind, 0)
    if bang or breaking_footer:
        level = 3
    return Message(_join(subject, body), level, kind)


def _join(subject: str, paragraphs: list[str]) -> str:
    return "\n\n".join([subject, *paragraphs]) + "\n"


def _data(text: str) -> bytes:
    raw = text.encode("utf-8")
    return b"data %d\n%s\n" % (len(raw), raw)


def _file(path: str, text: str) -> bytes:
    return b"M 100644 inline %s\n%s" % (path.encode(), _data(text))


def _touch(history: History, path: str, line: str) -> bytes:
    lines = history.files.setdefault(path, [])
    lines.append(line)
    del lines[:-KEEP_LINES]
    if path.endswith(".py"):
        text = f'"""{path}"""\n\n' + "".join(f"# {x}\n" for x in lines)
    elif path.endswith(".md"):
        text = f"# {path}\n\n" + "".join(f"- {x}\n" for x in lines)
    else:
        text = "".join(f"# {x}\n" for x in lines)
    return _file(path, text)


def _commit(
    mark: int, who: tuple[str, str, str], when: int, message: str, changes: list[bytes]
) -> bytes:
    name, email, tz = who
    ident = f"{name} <{email}> {when} {tz}".encode()
    head = b"commit refs/heads/main\nmark :%d\nauthor %s\ncommitter %s\n" % (mark, ident, ident)
    return head + _data(message) + b"".join(changes)


def _tag(name: str, mark: int, when: int, message: str, lightweight: bool) -> bytes:
    if lightweight:
        return b"reset refs/tags/%s\nfrom :%d\n" % (name.encode(), mark)
    rname, remail, rtz = RELEASER
    return (
        b"tag %s\nfrom :%d\ntagger %s <%s> %d %s\n"
        % (name.encode(), mark, rname.encode(), remail.encode(), when, rtz.encode())
    ) + _data(message)


def release_points(commits: int, tag_every: int, unreleased: int) -> set[int]:
    """1-based commit numbers that are release commits (and carry a tag)."""
    last = commits - unreleased
    if tag_every <= 0 or last < 2:
        return set()
    return set(range(last, 1, -tag_every))


def stream(commits: int, tag_every: int, seed: int, unreleased: int, lightweight: bool = False):
    """Yield the fast-import stream in chunks."""
    rng = random.Random(seed)
    history = History(rng)
    releases = release_points(commits, tag_every, unreleased)
    version = Version()
    pending = 0  # highest bump level since the last release

    initial = [
        _file("pyproject.toml", PYPROJECT.format(version=version)),
        _file("CHANGELOG.md", CHANGELOG),
        _file(".gitignore", "__pycache__/\n.venv/\n"),
        _file("src/app/__init__.py", '"""bench-service."""\n'),
    ]
    initial += [
        _touch(history, path, "created") for paths in FILES_BY_KIND.values() for path in paths
    ]
    yield _commit(1, AUTHORS[0], history.when, "chore: initial commit\n", initial)
    history.subjects.append("chore: initial commit")

    step = max(120, min(4 * 3600, SPAN // commits))
    for serial in range(2, commits + 1):
        history.when += rng.randint(step // 4, step * 7 // 4)
        if serial in releases:
            version = version.bump(pending)
            pending = 0
            text = f"chore(release): {version}\n"
            yield _commit(
                serial,
                RELEASER,
                history.when,
                text,
                [_file("pyproject.toml", PYPROJECT.format(version=version))],
            )
            yield _tag(f"v{version}", serial, history.when, f"Release {version}\n", lightweight)
            history.subjects.append(text.strip())
            continue
        message = make_message(rng, history, serial)
        pending = max(pending, message.level)
        paths = rng.sample(FILES_BY_KIND[rng.choice(KIND_FOR_TYPE[message.kind])], 1)
        if rng.random() < 0.3:
            paths += rng.sample(FILES_BY_KIND[rng.choice(KIND_FOR_TYPE[message.kind])], 1)
        changes = [_touch(history, p, f"change {serial}") for p in dict.fromkeys(paths)]
        author = rng.choice(AUTHORS if message.kind in ("build", "chore") else AUTHORS[:-1])
        yield _commit(serial, author, history.when, message.text, changes)
        history.subjects.append(message.text.split("\n", 1)[0])
        if len(history.subjects) > 200:
            del history.subjects[:100]
    yield b"done\n"


def generate(
    dest: Path, commits: int, tag_every: int, seed: int, unreleased: int, lightweight: bool = False
) -> None:
    if dest.exists() and any(dest.iterdir()):
        raise SystemExit(f"error: {dest} exists and is not empty — pick a new DEST")
    dest.mkdir(parents=True, exist_ok=True)
    git = ["git", "-C", str(dest)]
    subprocess.run([*git, "init", "--quiet", "--initial-branch=main"], check=True)
    for key, value in (
        ("user.name", "Bench Runner"),
        ("user.email", "bench@example.com"),
        ("commit.gpgsign", "false"),
        ("tag.gpgsign", "false"),
    ):
        subprocess.run([*git, "config", key, value], check=True)
    importer = subprocess.Popen([*git, "fast-import", "--quiet", "--done"], stdin=subprocess.PIPE)
    assert importer.stdin is not None
    buffer: list[bytes] = []
    size = 0
    for chunk in stream(commits, tag_every, seed, unreleased, lightweight):
        buffer.append(chunk)
        size += len(chunk)
        if size > 1 << 20:
            importer.stdin.write(b"".join(buffer))
            buffer, size = [], 0
    importer.stdin.write(b"".join(buffer))
    importer.stdin.close()
    if importer.wait() != 0:
        raise SystemExit("error: git fast-import failed — see its message above")
    subprocess.run([*git, "checkout", "--quiet", "--force", "main"], check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", type=Path, help="directory to create (must be new or empty)")
    parser.add_argument("--commits", type=int, default=20000, help="number of commits (>= 1)")
    parser.add_argument(
        "--tag-every",
        type=int,
        default=200,
        help="a release commit and tag every K commits (0: no tags)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--unreleased",
        type=int,
        default=None,
        help="commits after the last tag (default: tag-every / 2)",
    )
    parser.add_argument(
        "--lightweight", action="store_true", help="lightweight tags instead of annotated ones"
    )
    args = parser.parse_args(argv)
    if args.commits < 1:
        parser.error("--commits must be at least 1")
    unreleased = args.unreleased if args.unreleased is not None else args.tag_every // 2
    generate(args.dest, args.commits, args.tag_every, args.seed, unreleased, args.lightweight)
    return 0


if __name__ == "__main__":
    sys.exit(main())
