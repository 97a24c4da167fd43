"""The dashboard's figures: pure aggregation over rows."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from app.store.stats import ChallengeRow, InboundRow
from app.usecases import dashboard

NOW = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


def row(status="verified", created=-600, ended=-540, number="+1", reason=None):
    created_at = NOW + timedelta(seconds=created)
    ended_at = None if status == "pending" else NOW + timedelta(seconds=ended)
    return ChallengeRow(
        id="ch_x", number=number, phone=None, status=status, created_at=created_at,
        verified_at=ended_at if status == "verified" else None, ended_at=ended_at,
        verified_phone=None, attempts=0, failure_reason=reason,
    )  # fmt: skip


class Source:
    def __init__(self, rows, inbound=()):
        self.rows, self.inbound = list(rows), list(inbound)

    def recent_challenges(self, limit):
        return self.rows[:limit]

    def recent_inbound(self, limit):
        return self.inbound[:limit]

    def challenges_since(self, since, cap):
        return [r for r in self.rows if r.created_at >= since][:cap]

    def inbound_since(self, since, cap):
        return [m for m in self.inbound if m.received_at >= since][:cap]


def test_bins_count_verifications_and_endings_per_hour():
    rows = [row(ended=-60), row(ended=-120), row("expired", ended=-3700), row("pending")]
    bins = dashboard.bins(rows, NOW - timedelta(hours=3), NOW, timedelta(hours=1))
    assert [b.start.hour for b in bins] == [9, 10, 11, 12]
    assert [(b.verified, b.ended) for b in bins] == [(0, 0), (0, 0), (0, 1), (2, 2)]
    assert bins[-1].rate == 1.0 and bins[0].rate is None


def test_time_to_verify_lands_in_labelled_buckets():
    histogram = dict(dashboard.ttv_histogram([3, 12, 45, 61, 700]))
    assert histogram == {
        "<10s": 1, "10s-20s": 1, "20s-30s": 0, "30s-1m": 1, "1m-2m": 1,
        "2m-5m": 0, "5m-10m": 0, ">10m": 1,
    }  # fmt: skip


def test_failures_are_grouped_by_reason_most_first():
    rows = [row("failed", reason="too_many_attempts")] + [row("expired")] * 3 + [row("cancelled")]
    assert dashboard.failures(rows) == [("expired", 3), ("cancelled", 1), ("too_many_attempts", 1)]


def test_overview_counts_per_provider_and_per_number_and_success_rate():
    rows = [row(number="+1"), row(number="+1"), row("expired", number="+2"), row("pending")]
    inbound = [
        InboundRow("twilio", "+3", "+1", "matched", "ch_x", NOW),
        InboundRow("twilio", "+3", "+1", "no_code", None, NOW),
        InboundRow("simulator", "+3", "+2", "matched", "ch_x", NOW),
    ]
    o = dashboard.overview(Source(rows, inbound), NOW, "24h")
    assert o.numbers["+1"] == Counter({"verified": 2, "pending": 1})
    assert o.providers == {"twilio": Counter(matched=1, no_code=1), "simulator": Counter(matched=1)}
    assert o.unmatched == [("no_code", 1)]
    assert o.success_rate == 2 / 3
    assert o.ttv_median == 60


def test_overview_leaves_out_rows_before_the_window():
    rows = [row(created=-7200, ended=-7100), row(created=-300, ended=-200)]
    o = dashboard.overview(Source(rows), NOW, "1h")
    assert o.totals == {"verified": 1}
    assert o.step == timedelta(minutes=5)
