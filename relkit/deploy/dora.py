"""DORA metrics from release records: deployment frequency, lead time for
changes, change-failure rate and time to restore.

Definitions (per environment, over a window ending now):

* deployment frequency: successful deploys per day (rollbacks don't count);
* lead time for changes: from the first commit of a release (the oldest commit
  between the previous release's git sha and this one's) to the end of its
  successful deploy; median over the window;
* change-failure rate: the share of deploys that failed, needed a rollback
  (automatic, or a manual ``relkit rollback`` away from them) or a hotfix (the
  next deploy, within 24 hours, is a patch release of the same major.minor);
* time to restore: from the start of a failed change to the end of the next
  successful release (deploy or rollback); median.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from relkit.deploy import records as rec
from relkit.deploy.records import ReleaseRecord
from relkit.errors import UsageError

HOTFIX_WINDOW = timedelta(hours=24)
FAILED_OUTCOMES = (rec.FAILED, rec.ROLLED_BACK, rec.ROLLBACK_FAILED, rec.INTERRUPTED)

# (previous sha or None, sha) -> seconds since epoch of the oldest commit in between
FirstCommit = Callable[[str | None, str], float | None]


@dataclass(frozen=True)
class Dora:
    environment: str
    since: str
    until: str
    days: float
    deployments: int
    deploys_per_day: float
    lead_time_seconds: float | None
    change_failure_rate: float | None
    failures: int
    time_to_restore_seconds: float | None

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def parse_window(text: str) -> timedelta:
    match = re.fullmatch(r"\s*(\d+)\s*([hdw])\s*", text)
    if match is None:
        raise UsageError(f"--since {text!r} is not a window", "write e.g. 30d, 12h or 4w")
    amount, unit = int(match.group(1)), match.group(2)
    return {
        "h": timedelta(hours=amount),
        "d": timedelta(days=amount),
        "w": timedelta(weeks=amount),
    }[unit]


def _end(record: ReleaseRecord) -> datetime:
    return datetime.fromisoformat(record.finished_at or record.started_at)


def _release_triple(version: str) -> tuple[int, ...] | None:
    match = re.match(r"v?(\d+)\.(\d+)\.(\d+)", version)
    return tuple(int(g) for g in match.groups()) if match else None


def _hotfixed(record: ReleaseRecord, following: ReleaseRecord | None) -> bool:
    if following is None or following.kind != rec.DEPLOY:
        return False
    a, b = _release_triple(record.version), _release_triple(following.version)
    if a is None or b is None:
        return False
    quick = following.started - _end(record) <= HOTFIX_WINDOW
    return quick and a[:2] == b[:2] and b[2] > a[2]


def compute(
    environment: str,
    records: Sequence[ReleaseRecord],
    window: timedelta,
    now: datetime,
    first_commit: FirstCommit | None = None,
) -> Dora:
    ordered = rec.ordered(records)
    start = now - window
    deploys = [r for r in ordered if r.kind == rec.DEPLOY and r.outcome != rec.IN_PROGRESS]
    in_window = [r for r in deploys if r.started >= start]
    good = [r for r in in_window if r.outcome == rec.SUCCEEDED]
    days = max(window.total_seconds() / 86400, 1e-9)

    failed_changes: list[ReleaseRecord] = []
    for record in in_window:
        later = [r for r in ordered if r.started > record.started]
        following_deploy = next((r for r in later if r.kind == rec.DEPLOY), None)
        manual_rollback = next(
            (
                r
                for r in later
                if r.kind == rec.ROLLBACK
                and r.previous_version == record.version
                and not r.who.endswith(f"(automatic rollback of {record.version})")
            ),
            None,
        )
        if (
            record.outcome in FAILED_OUTCOMES
            or (record.outcome == rec.SUCCEEDED and manual_rollback is not None)
            or (record.outcome == rec.SUCCEEDED and _hotfixed(record, following_deploy))
        ):
            failed_changes.append(record)

    restores: list[float] = []
    for failure in failed_changes:
        later_good = [
            r
            for r in ordered
            if r.outcome == rec.SUCCEEDED
            and r.started > failure.started
            and r.id != failure.id
            and (
                failure.outcome != rec.SUCCEEDED
                or r.kind == rec.ROLLBACK
                or r.version != failure.version
            )
        ]
        if later_good:
            restores.append((_end(later_good[0]) - failure.started).total_seconds())

    leads: list[float] = []
    if first_commit is not None:
        previous_sha: str | None = None
        for record in deploys:
            if record.outcome == rec.SUCCEEDED and record.git_sha:
                if record in good:
                    first = first_commit(previous_sha, record.git_sha)
                    if first is not None:
                        leads.append(max(0.0, _end(record).timestamp() - first))
                previous_sha = record.git_sha

    return Dora(
        environment=environment,
        since=start.isoformat(timespec="seconds"),
        until=now.isoformat(timespec="seconds"),
        days=round(days, 3),
        deployments=len(good),
        deploys_per_day=round(len(good) / days, 3),
        lead_time_seconds=round(statistics.median(leads), 1) if leads else None,
        change_failure_rate=round(len(failed_changes) / len(in_window), 3) if in_window else None,
        failures=len(failed_changes),
        time_to_restore_seconds=round(statistics.median(restores), 1) if restores else None,
    )
