"""The operator dashboard's figures: pure aggregation over the rows of a time window.

`overview` reads through a `StatsSource` and returns plain values the admin page draws;
everything else here is a pure function of rows and `now`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from statistics import median, quantiles
from typing import Protocol

from app.domain.challenges import Method, Outcome, Status
from app.domain.funnel import Step
from app.store.stats import ChallengeRow, InboundRow, PageEventRow
from app.usecases import funnel

WINDOWS: dict[str, tuple[timedelta, timedelta]] = {
    "1h": (timedelta(hours=1), timedelta(minutes=5)),
    "24h": (timedelta(hours=24), timedelta(hours=1)),
    "7d": (timedelta(days=7), timedelta(hours=6)),
}
DEFAULT_WINDOW = "24h"
ROW_CAP = 50_000
RECENT = 25
# Upper bounds (seconds) of the time-to-verify buckets; the last bucket is open.
TTV_BOUNDS = (10, 20, 30, 60, 120, 300, 600)


class StatsSource(Protocol):
    def recent_challenges(self, limit: int) -> list[ChallengeRow]: ...

    def recent_inbound(self, limit: int) -> list[InboundRow]: ...

    def challenges_since(self, since: datetime, cap: int) -> list[ChallengeRow]: ...

    def inbound_since(self, since: datetime, cap: int) -> list[InboundRow]: ...


class FunnelSource(StatsSource, Protocol):
    def page_events_since(self, since: datetime, cap: int) -> list[PageEventRow]: ...

    def find_challenges(self, prefix: str, limit: int) -> list[ChallengeRow]: ...

    def events_of(self, challenge_ids: list[str]) -> list[PageEventRow]: ...

    def inbound_of(self, challenge_ids: list[str]) -> list[InboundRow]: ...


@dataclass(frozen=True)
class Found:
    """A challenge found by id, with the funnel steps it reached."""

    row: ChallengeRow
    steps: list[str]


SEARCH_MIN = 4  # characters of a challenge id before a search runs
SEARCH_LIMIT = 20


def funnels(source: FunnelSource, now: datetime, window: str) -> dict[str, list[Step]]:
    """Return the funnel of each app ("" the default app) and of all ("*") over the window."""
    span, _ = WINDOWS.get(window, WINDOWS[DEFAULT_WINDOW])
    since = now - span
    rows = source.challenges_since(since, ROW_CAP)
    return funnel.by_app(
        rows, source.page_events_since(since, ROW_CAP * 3), source.inbound_since(since, ROW_CAP)
    )


def search(source: FunnelSource, query: str) -> list[Found]:
    """Find challenges by the start of their id (at least SEARCH_MIN characters)."""
    query = query.strip()
    if len(query) < SEARCH_MIN:
        return []
    rows = source.find_challenges(query, SEARCH_LIMIT)
    ids = [r.id for r in rows]
    if not ids:
        return []
    events = source.events_of(ids)
    inbound = source.inbound_of(ids)
    return [Found(r, funnel.steps_of(r, events, inbound)) for r in rows]


@dataclass(frozen=True)
class Bin:
    start: datetime
    verified: int = 0
    ended: int = 0

    @property
    def rate(self) -> float | None:
        return None if self.ended == 0 else self.verified / self.ended


@dataclass(frozen=True)
class Overview:
    window: str
    step: timedelta
    since: datetime
    totals: dict[str, int]
    bins: list[Bin]
    time_to_verify: list[tuple[str, int]]
    ttv_median: float | None
    ttv_p90: float | None
    failures: list[tuple[str, int]]
    unmatched: list[tuple[str, int]]
    providers: dict[str, Counter[str]]
    numbers: dict[str, Counter[str]]
    recent_challenges: list[ChallengeRow]
    recent_inbound: list[InboundRow]
    truncated: bool
    test_verified: int = 0  # verifications by a [[test_numbers]] code, among the verified

    @property
    def success_rate(self) -> float | None:
        ended = sum(self.totals.get(s.value, 0) for s in Status if s.final)
        return None if ended == 0 else self.totals.get(Status.VERIFIED.value, 0) / ended


def overview(source: StatsSource, now: datetime, window: str = DEFAULT_WINDOW) -> Overview:
    """Return the dashboard's figures for the window ending now."""
    span, step = WINDOWS.get(window, WINDOWS[DEFAULT_WINDOW])
    since = now - span
    rows = source.challenges_since(since, ROW_CAP)
    inbound = source.inbound_since(since, ROW_CAP)
    seconds = verify_seconds(rows)
    return Overview(
        window=window if window in WINDOWS else DEFAULT_WINDOW,
        step=step,
        since=since,
        totals=dict(Counter(r.status for r in rows)),
        bins=bins(rows, since, now, step),
        time_to_verify=ttv_histogram(seconds),
        ttv_median=median(seconds) if seconds else None,
        ttv_p90=quantiles(seconds, n=10)[-1] if len(seconds) > 1 else None,
        failures=failures(rows),
        unmatched=_sorted(Counter(m.outcome for m in inbound if m.outcome != Outcome.MATCHED)),
        providers=_grouped((m.provider, m.outcome) for m in inbound),
        numbers=_grouped((r.number, r.status) for r in rows),
        recent_challenges=source.recent_challenges(RECENT),
        recent_inbound=source.recent_inbound(RECENT),
        truncated=len(rows) >= ROW_CAP or len(inbound) >= ROW_CAP,
        test_verified=sum(1 for r in rows if _by_test(r)),
    )


def _by_test(row: ChallengeRow) -> bool:
    return row.status == Status.VERIFIED and row.method == Method.TEST


def bins(rows: list[ChallengeRow], since: datetime, now: datetime, step: timedelta) -> list[Bin]:
    """Count verifications and endings per step from `since` (aligned to the step) to now."""
    start = _floor(since, step)
    count = int((now - start) / step) + 1
    verified = [0] * count
    ended = [0] * count
    for row in rows:
        if row.ended_at is None or row.ended_at < start:
            continue
        index = min(int((row.ended_at - start) / step), count - 1)
        ended[index] += 1
        if row.status == Status.VERIFIED:
            verified[index] += 1
    return [Bin(start + i * step, verified[i], ended[i]) for i in range(count)]


def verify_seconds(rows: list[ChallengeRow]) -> list[float]:
    """Seconds from creation to verification of the verified rows (test numbers left out:
    a reviewer's typing says nothing of how long an SMS takes)."""
    return [
        (r.verified_at - r.created_at).total_seconds()
        for r in rows
        if r.status == Status.VERIFIED and r.verified_at is not None and not _by_test(r)
    ]


def ttv_histogram(seconds: list[float]) -> list[tuple[str, int]]:
    """Count times to verify into labelled buckets (`<10s`, `10-20s`, ..., `>10m`)."""
    counts = [0] * (len(TTV_BOUNDS) + 1)
    for value in seconds:
        counts[next((i for i, b in enumerate(TTV_BOUNDS) if value < b), len(TTV_BOUNDS))] += 1
    labels = [f"<{_dur(TTV_BOUNDS[0])}"]
    labels += [f"{_dur(a)}-{_dur(b)}" for a, b in pairwise(TTV_BOUNDS)]
    labels.append(f">{_dur(TTV_BOUNDS[-1])}")
    return list(zip(labels, counts, strict=True))


def failures(rows: list[ChallengeRow]) -> list[tuple[str, int]]:
    """Challenges that ended unverified, by reason (failure reason, else the status)."""
    reasons: Counter[str] = Counter()
    for row in rows:
        if row.status in (Status.FAILED, Status.EXPIRED, Status.CANCELLED):
            reasons[row.failure_reason or row.status] += 1
    return _sorted(reasons)


def _grouped(pairs: Iterable[tuple[str, str]]) -> dict[str, Counter[str]]:
    out: dict[str, Counter[str]] = {}
    for key, value in pairs:
        out.setdefault(key, Counter())[value] += 1
    return dict(sorted(out.items(), key=lambda kv: -sum(kv[1].values())))


def _sorted(counter: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))


def _floor(moment: datetime, step: timedelta) -> datetime:
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + ((moment - midnight) // step) * step


def _dur(seconds: int) -> str:
    return f"{seconds // 60}m" if seconds >= 60 and seconds % 60 == 0 else f"{seconds}s"
