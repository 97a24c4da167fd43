"""The conversion funnel: the hosted page's events, and the steps each challenge reached."""

from __future__ import annotations

from collections.abc import Iterable

from app.domain.challenges import Status
from app.domain.funnel import PAGE_EVENTS, Reached, Step, funnel
from app.store.stats import ChallengeRow, InboundRow, PageEventRow
from app.usecases import challenges
from app.usecases.context import Conflict, Context, RateLimited, ServiceError


def record_page_event(
    ctx: Context, token: str, name: str, client_ip: str | None, per_minute: int
) -> None:
    """Record what the page of the token's challenge reports, once per challenge and event.

    Counted per address first (a refusal is 429); then the token must name a pending
    challenge (404 otherwise, 409 once it has ended), the event must be known (400), and an
    event already recorded is refused (409), so a replay changes nothing.
    """
    now = ctx.clock.now()
    if ctx.limits is not None:
        refusal = ctx.limits.check_beacon(client_ip, per_minute, now)
        if refusal is not None:
            raise RateLimited(refusal)
    challenge = challenges.challenge_for_token(ctx, token)
    if name not in PAGE_EVENTS:
        known = ", ".join(sorted(PAGE_EVENTS))
        raise ServiceError("invalid_event", f"event must be one of: {known}")
    if challenge.status is not Status.PENDING:
        raise Conflict("not_pending", f"challenge is {challenge.status.value}")
    if not ctx.store.record_page_event(challenge.id, challenge.app_id, name, now):
        raise Conflict("already_recorded", f"{name} is already recorded for this challenge")


def steps_of(
    row: ChallengeRow, events: Iterable[PageEventRow], inbound: Iterable[InboundRow]
) -> list[str]:
    """Return the funnel steps one challenge reached."""
    seen = frozenset(e.event for e in events if e.challenge_id == row.id)
    received = any(m.challenge_id == row.id for m in inbound)
    return Reached(seen, received, row.status == Status.VERIFIED).steps()


def by_app(
    rows: list[ChallengeRow], events: Iterable[PageEventRow], inbound: Iterable[InboundRow]
) -> dict[str, list[Step]]:
    """Return the funnel of every app (by id, "" for the default app) and of all ("*")."""
    seen: dict[str, set[str]] = {}
    for event in events:
        seen.setdefault(event.challenge_id, set()).add(event.event)
    received = {m.challenge_id for m in inbound if m.challenge_id}
    reached: dict[str, list[Reached]] = {"*": []}
    for row in rows:
        one = Reached(
            frozenset(seen.get(row.id, ())), row.id in received, row.status == Status.VERIFIED
        )
        reached["*"].append(one)
        reached.setdefault(row.app_id or "", []).append(one)
    return {app: funnel(items) for app, items in reached.items()}
