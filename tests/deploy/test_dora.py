"""DORA metrics from release records (pure: synthetic records, a fake commit-time lookup)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from relkit.deploy import records as rec
from relkit.deploy.dora import compute, parse_window
from relkit.deploy.records import ReleaseRecord
from relkit.errors import UsageError

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def record(
    version: str,
    started: datetime,
    *,
    minutes: float = 2,
    outcome: str = rec.SUCCEEDED,
    kind: str = rec.DEPLOY,
    sha: str | None = None,
    who: str = "alice",
    previous_version: str | None = None,
) -> ReleaseRecord:
    return ReleaseRecord(
        id=f"{started:%Y%m%d%H%M%S}-{version}-{kind}",
        environment="production",
        namespace="acme",
        kind=kind,
        version=version,
        images={},
        git_sha=sha or f"sha-{version}",
        who=who,
        started_at=started.isoformat(),
        finished_at=(started + timedelta(minutes=minutes)).isoformat(),
        outcome=outcome,
        previous_version=previous_version,
    )


def test_frequency_counts_successful_deploys_in_the_window() -> None:
    records = [
        record("1.0.0", NOW - timedelta(days=40)),  # outside a 30-day window
        record("1.1.0", NOW - timedelta(days=20)),
        record("1.2.0", NOW - timedelta(days=10)),
        record("1.3.0", NOW - timedelta(days=5), outcome=rec.ROLLED_BACK),
    ]
    result = compute("production", records, timedelta(days=30), NOW)
    assert result.deployments == 2
    assert result.deploys_per_day == round(2 / 30, 3)
    assert result.failures == 1
    assert result.change_failure_rate == round(1 / 3, 3)


def test_a_manual_rollback_and_a_quick_patch_count_as_failed_changes() -> None:
    t = NOW - timedelta(days=3)
    records = [
        record("2.0.0", t),
        record("2.1.0", t + timedelta(hours=1)),
        record(
            "2.0.0",
            t + timedelta(hours=2),
            kind=rec.ROLLBACK,
            who="bob",
            previous_version="2.1.0",
        ),
        record("2.2.0", t + timedelta(days=1)),
        record("2.2.1", t + timedelta(days=1, hours=3)),  # hotfix of 2.2.0
    ]
    result = compute("production", records, timedelta(days=30), NOW)
    assert result.deployments == 4
    assert result.failures == 2  # 2.1.0 (rolled back by hand) and 2.2.0 (hotfixed)
    assert result.change_failure_rate == 0.5
    # 2.1.0 restored by the rollback after 1h02; 2.2.0 by 2.2.1 after 3h02: median 2h02.
    assert result.time_to_restore_seconds == pytest.approx(2 * 3600 + 120, abs=1)


def test_lead_time_is_the_median_from_first_commit_to_deploy() -> None:
    t = NOW - timedelta(days=2)
    records = [
        record("1.0.0", t, sha="a"),
        record("1.1.0", t + timedelta(hours=5), sha="b", minutes=0),
        record("1.2.0", t + timedelta(hours=9), sha="c", minutes=0),
    ]
    commit_times = {
        ("a", "b"): (t + timedelta(hours=1)).timestamp(),
        ("b", "c"): (t + timedelta(hours=8)).timestamp(),
    }
    calls: list[tuple[str | None, str]] = []

    def first_commit(previous: str | None, sha: str) -> float | None:
        calls.append((previous, sha))
        return commit_times.get((previous or "", sha))

    result = compute("production", records, timedelta(days=30), NOW, first_commit)
    assert calls == [(None, "a"), ("a", "b"), ("b", "c")]
    assert result.lead_time_seconds == pytest.approx((4 * 3600 + 1 * 3600) / 2)


def test_no_deploys_gives_no_rates() -> None:
    result = compute("staging", [], timedelta(days=7), NOW)
    assert (result.deployments, result.change_failure_rate, result.lead_time_seconds) == (
        0,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30d", timedelta(days=30)), ("12h", timedelta(hours=12)), ("2w", timedelta(weeks=2))],
)
def test_windows(text: str, expected: timedelta) -> None:
    assert parse_window(text) == expected


def test_a_bad_window_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="30d"):
        parse_window("a month")
