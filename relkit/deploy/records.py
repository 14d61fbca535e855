"""Release records: what was deployed where, by whom, and how it went.

A record is a plain JSON document stored with the target (see
:mod:`relkit.docker.state`). Records are written when a deploy starts
(``outcome = "in_progress"``) and rewritten when it ends, so a run that was
killed leaves a trace that ``relkit status`` and the next deploy explain.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

IN_PROGRESS = "in_progress"
SUCCEEDED = "succeeded"
FAILED = "failed"  # failed, nothing was rolled back (--no-rollback)
ROLLED_BACK = "rolled_back"  # failed, and the previous release was restored
ROLLBACK_FAILED = "rollback_failed"  # failed, and the rollback failed too
INTERRUPTED = "interrupted"  # found in progress with its lock gone stale

DEPLOY = "deploy"
ROLLBACK = "rollback"


@dataclass
class ReleaseRecord:
    id: str
    environment: str
    namespace: str
    kind: str  # deploy or rollback
    version: str
    images: dict[str, str]  # image name -> name@sha256:digest
    git_sha: str | None
    who: str
    started_at: str
    outcome: str = IN_PROGRESS
    finished_at: str | None = None
    previous: str | None = None  # id of the release this one replaced
    previous_version: str | None = None
    durations: dict[str, float] = field(default_factory=dict)
    approval: dict[str, str] | None = None
    backup: str | None = None
    migrated: bool = False
    rollback: bool = True  # False when --no-rollback
    rolled_back_to: str | None = None
    error: str | None = None
    host: str = ""
    # Versions the images answer besides ``version`` (a promoted release runs the
    # images of its pre-release): a rollback to this release smoke-tests with them.
    reports: list[str] = field(default_factory=list)

    @property
    def started(self) -> datetime:
        return datetime.fromisoformat(self.started_at)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReleaseRecord:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def new_id(started_at: str, version: str) -> str:
    stamp = re.sub(r"[^0-9]", "", started_at)[:17]
    return f"{stamp}-{re.sub(r'[^0-9A-Za-z.-]', '_', version)}"


def ordered(records: Iterable[ReleaseRecord]) -> list[ReleaseRecord]:
    """Oldest first."""
    return sorted(records, key=lambda r: (r.started_at, r.id))


def current(records: Iterable[ReleaseRecord]) -> ReleaseRecord | None:
    """The release that should be running: the newest one that ended healthy.

    A failed deploy that was rolled back leaves the rollback's target running;
    the rollback itself is recorded as its own (successful) release.
    """
    good = [r for r in ordered(records) if r.outcome == SUCCEEDED]
    return good[-1] if good else None


def abandoned_versions(records: Iterable[ReleaseRecord]) -> set[str]:
    """Versions someone rolled back away from and nobody deployed again since."""
    out: set[str] = set()
    for record in ordered(records):
        if record.outcome != SUCCEEDED:
            continue
        if record.kind == DEPLOY:
            out.discard(record.version)
        elif record.kind == ROLLBACK and record.previous_version:
            out.add(record.previous_version)
    return out


def previous_good(records: Iterable[ReleaseRecord], before: ReleaseRecord) -> ReleaseRecord | None:
    """The last successful release older than *before*, with another version, that
    nobody rolled back away from (so a second rollback goes further back, not forward)."""
    records = list(records)
    skip = abandoned_versions(records) | {before.version}
    candidates = [
        r
        for r in ordered(records)
        if r.outcome == SUCCEEDED and r.started_at < before.started_at and r.version not in skip
    ]
    return candidates[-1] if candidates else None


def find_version(records: Iterable[ReleaseRecord], version: str) -> ReleaseRecord | None:
    matches = [r for r in ordered(records) if r.outcome == SUCCEEDED and r.version == version]
    return matches[-1] if matches else None


def migrations_since(
    records: Iterable[ReleaseRecord], goal: ReleaseRecord
) -> tuple[list[ReleaseRecord], str | None]:
    """The deploys that migrated the database since *goal*'s version was deployed,
    and the backup to restore to get back to its schema (None when there is none).

    "Since" counts from the last real deploy of that version — not from a
    rollback to it — so a rollback without --restore-db can still be followed
    by one with it. A backup that a rollback already restored counts no more.
    """
    ordered_records = ordered(records)
    deploys = [
        r
        for r in ordered_records
        if r.version == goal.version and r.kind == DEPLOY and r.outcome == SUCCEEDED
    ]
    base = deploys[-1] if deploys else goal
    restored = {r.backup for r in ordered_records if r.kind == ROLLBACK and r.backup}
    migrated = [
        r
        for r in ordered_records
        if r.migrated
        and r.started_at > base.started_at
        and r.outcome in (SUCCEEDED, ROLLED_BACK)
        and r.backup not in restored
    ]
    backup = next((r.backup for r in migrated if r.backup), None)
    return migrated, backup


def mask_url(url: str) -> str:
    """A webhook or registry URL with everything past the host hidden."""
    match = re.match(r"^([a-z][a-z0-9+.-]*://)(?:[^@/]*@)?([^/?#]+)", url, re.IGNORECASE)
    return f"{match.group(1)}{match.group(2)}/***" if match else "***"
