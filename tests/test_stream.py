"""The live status stream and the long poll, driven by a fake waiter and the fake clock."""

from __future__ import annotations

import json
from collections import deque
from datetime import timedelta

from app.domain.challenges import InboundMessage
from app.events.base import StatusChanged
from app.events.stream import Snapshot, events, wait_for_change
from app.usecases import challenges, inbound, texts
from app.web.live import reader
from tests.conftest import NUMBER, runtime


class FakeWaiter:
    """Returns queued events; when none is queued, lets `timeout` seconds pass on the clock."""

    def __init__(self, clock, on_wait=None):
        self.clock = clock
        self.timeouts: list[float] = []
        self.queued: deque[StatusChanged] = deque()
        self.on_wait = on_wait

    def wait(self, timeout):
        self.timeouts.append(timeout)
        if self.on_wait is not None:
            self.on_wait(len(self.timeouts))
        if self.queued:
            return self.queued.popleft()
        self.clock.advance(timeout)
        return None


def sms(created, ctx, sender="+33612345678", message_id="m1"):
    text = texts.sms_text(ctx, created.code)
    return InboundMessage("simulator", message_id, sender, NUMBER, text, sender)


def parse(chunks):
    """Return the (event, data) pairs and the comment lines of SSE text."""
    frames, comments = [], []
    for block in "".join(chunks).split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if block.startswith(":"):
            comments.append(block)
        elif "event" in fields:
            frames.append((fields["event"], json.loads(fields["data"])))
    return frames, comments


def stream(app, ctx, clock, token, waiter, last_event_id=None, heartbeat=15):
    read = reader(runtime(app), token)
    return events(waiter, read, clock.now, heartbeat, 3000, last_event_id)


def test_stream_opens_with_retry_hint_then_current_status(app, ctx, clock):
    created = challenges.create_challenge(ctx, None, 120, {})
    chunks = stream(app, ctx, clock, created.token, FakeWaiter(clock))
    assert next(chunks) == "retry: 3000\n\n"
    first = next(chunks)
    assert first.startswith("id: pending\nevent: pending\n")
    assert json.loads(first.split("data: ")[1])["status"] == "pending"


def test_stream_sends_heartbeats_while_nothing_happens(app, ctx, clock):
    created = challenges.create_challenge(ctx, None, 120, {})
    waiter = FakeWaiter(clock)
    chunks = stream(app, ctx, clock, created.token, waiter, heartbeat=15)
    taken = [next(chunks) for _ in range(5)]
    assert taken[2:] == [": keep-alive\n\n"] * 3
    assert waiter.timeouts == [15, 15, 15]


def test_stream_sends_verified_and_ends(app, ctx, clock):
    created = challenges.create_challenge(ctx, None, 120, {})

    def deliver(call):
        if call == 1:
            verdict = inbound.record_inbound(ctx, sms(created, ctx))
            waiter.queued.append(StatusChanged(verdict.challenge_id, "verified"))

    waiter = FakeWaiter(clock, deliver)
    frames, _ = parse(stream(app, ctx, clock, created.token, waiter))
    assert [name for name, _ in frames] == ["pending", "verified"]
    assert frames[-1][1]["phone"] == "+33 6** *** *78"


def test_stream_sends_expired_at_expiry_even_if_nothing_happens(app, ctx, clock):
    created = challenges.create_challenge(ctx, None, 100, {})
    waiter = FakeWaiter(clock)
    frames, comments = parse(stream(app, ctx, clock, created.token, waiter, heartbeat=30))
    assert [name for name, _ in frames] == ["pending", "expired"]
    assert sum(waiter.timeouts) == 100  # 30 + 30 + 30 + 10: woke exactly at expiry
    assert len(comments) == 3
    assert challenges.get_challenge(ctx, created.challenge.id).status.value == "expired"


def test_stream_skips_the_status_a_reconnecting_client_already_has(app, ctx, clock):
    created = challenges.create_challenge(ctx, None, 60, {})
    waiter = FakeWaiter(clock)
    chunks = list(stream(app, ctx, clock, created.token, waiter, last_event_id="pending"))
    frames, _ = parse(chunks)
    assert [name for name, _ in frames] == ["expired"]


def test_stream_of_a_final_challenge_sends_it_once_and_ends(app, ctx, clock):
    created = challenges.create_challenge(ctx, None, 60, {})
    challenges.cancel_challenge(ctx, created.challenge.id)
    frames, _ = parse(stream(app, ctx, clock, created.token, FakeWaiter(clock)))
    assert [name for name, _ in frames] == ["cancelled"]


class Seconds:
    def __init__(self, clock):
        self.clock = clock
        self.start = clock.now()

    def __call__(self):
        return (self.clock.now() - self.start).total_seconds()


def test_long_poll_returns_pending_after_the_wait(app, ctx, clock):
    created = challenges.create_challenge(ctx, None, 120, {})
    read = reader(runtime(app), created.token)
    waiter = FakeWaiter(clock)
    snapshot = wait_for_change(waiter, read, clock.now, 25, Seconds(clock))
    assert snapshot.status == "pending"
    assert waiter.timeouts == [25]


def test_long_poll_returns_as_soon_as_the_challenge_is_verified(app, ctx, clock):
    created = challenges.create_challenge(ctx, None, 120, {})

    def deliver(call):
        inbound.record_inbound(ctx, sms(created, ctx))
        waiter.queued.append(StatusChanged(created.challenge.id, "verified"))

    waiter = FakeWaiter(clock, deliver)
    read = reader(runtime(app), created.token)
    snapshot = wait_for_change(waiter, read, clock.now, 25, Seconds(clock))
    assert snapshot.status == "verified"
    assert len(waiter.timeouts) == 1


def test_long_poll_answers_expired_at_expiry_within_the_wait(app, ctx, clock):
    created = challenges.create_challenge(ctx, None, 60, {})
    clock.advance(50)
    read = reader(runtime(app), created.token)
    waiter = FakeWaiter(clock)
    snapshot = wait_for_change(waiter, read, clock.now, 30, Seconds(clock))
    assert snapshot.status == "expired"
    assert waiter.timeouts == [10]


def test_snapshot_is_final_for_every_status_but_pending():
    moment = timedelta(0)
    assert not Snapshot("pending", moment, {}).final  # type: ignore[arg-type]
    assert Snapshot("verified", moment, {}).final  # type: ignore[arg-type]
