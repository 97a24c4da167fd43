"""Event buses: in-process fan-out, the database poller, and Redis pub/sub with its fallback."""

from __future__ import annotations

import queue
import secrets
import socket

from app.config import load
from app.domain.challenges import InboundMessage
from app.events import make_bus
from app.events.base import StatusChanged
from app.events.memory import MemoryBus
from app.events.poller import PollingBus, StatusPoller
from app.usecases import challenges, inbound, texts
from tests.backends import REDIS_URL, require_redis
from tests.conftest import NUMBER, base_settings

SENDER = "+33612345678"


def verify(ctx, created, message_id="m1"):
    text = texts.sms_text(ctx, created.code)
    message = InboundMessage("simulator", message_id, SENDER, NUMBER, text, SENDER)
    return inbound.record_inbound(ctx, message)


def collect(bus, challenge_id):
    received: queue.SimpleQueue[StatusChanged] = queue.SimpleQueue()
    return received, bus.subscribe(challenge_id, received.put)


def test_memory_bus_delivers_to_subscribers_of_the_challenge_only():
    bus = MemoryBus()
    mine, _ = collect(bus, "ch_1")
    other, _ = collect(bus, "ch_2")
    bus.publish(StatusChanged("ch_1", "verified"))
    assert mine.get_nowait() == StatusChanged("ch_1", "verified")
    assert other.empty()


def test_memory_bus_forgets_a_challenge_when_its_last_subscriber_leaves():
    bus = MemoryBus()
    _, leave = collect(bus, "ch_1")
    assert bus.subscribed() == ["ch_1"]
    leave()
    assert bus.subscribed() == []


def test_poller_publishes_what_another_process_committed(ctx):
    created = challenges.create_challenge(ctx, None, 120, {})
    local = MemoryBus()  # this process's subscribers; the app's bus stands for another process
    poller = StatusPoller(local, ctx.store.final_statuses, interval=0.5)
    received, _ = collect(local, created.challenge.id)
    assert poller.poll_once() == 0
    verify(ctx, created)
    assert poller.poll_once() == 1
    assert received.get_nowait() == StatusChanged(created.challenge.id, "verified")
    assert poller.poll_once() == 0  # published once, not every interval


def test_poller_reads_nothing_without_local_subscribers(ctx):
    def refuse(ids):
        raise AssertionError("no query expected")

    assert StatusPoller(MemoryBus(), refuse, interval=0.5).poll_once() == 0


def test_polling_bus_thread_delivers_across_processes(ctx):
    created = challenges.create_challenge(ctx, None, 120, {})
    local = MemoryBus()
    bus = PollingBus(local, StatusPoller(local, ctx.store.final_statuses, interval=0.05))
    received, leave = collect(bus, created.challenge.id)
    verify(ctx, created)
    try:
        assert received.get(timeout=5).status == "verified"
    finally:
        leave()
        bus.close()


class FinalOnly:
    """A store reduced to what the buses read: the final statuses, nothing else."""

    def __init__(self, final: dict[str, str]) -> None:
        self.final = final

    def final_statuses(self, challenge_ids: list[str]) -> dict[str, str]:
        return {cid: status for cid, status in self.final.items() if cid in challenge_ids}


def test_make_bus_needs_of_the_store_only_its_final_statuses(tmp_path):
    settings = load(overrides=base_settings(tmp_path, events={"poll_interval": 0.05}), environ={})
    bus = make_bus(settings, FinalOnly({"ch_1": "verified", "ch_2": "expired"}))
    received, leave = collect(bus, "ch_1")
    try:
        assert received.get(timeout=5) == StatusChanged("ch_1", "verified")
    finally:
        leave()
        bus.close()


def redis_bus(store, url=REDIS_URL, channel=None, interval=0.05):
    from app.events.redisbus import RedisBus

    local = MemoryBus()
    fallback = StatusPoller(local, store.final_statuses, interval, active=False)
    return RedisBus(url, channel or f"test:{secrets.token_hex(8)}", local, fallback)


def test_redis_bus_delivers_an_event_published_by_another_process(ctx):
    require_redis()
    channel = f"test:{secrets.token_hex(8)}"
    publisher, listener = (
        redis_bus(ctx.store, channel=channel),
        redis_bus(ctx.store, channel=channel),
    )
    try:
        received, _ = collect(listener, "ch_1")
        assert listener.ready.wait(5)
        publisher.publish(StatusChanged("ch_1", "verified"))
        assert received.get(timeout=5) == StatusChanged("ch_1", "verified")
        assert not listener.fallback.active
    finally:
        publisher.close()
        listener.close()


def test_redis_bus_ignores_a_malformed_message(ctx):
    require_redis()
    import redis

    bus = redis_bus(ctx.store)
    try:
        received, _ = collect(bus, "ch_1")
        assert bus.ready.wait(5)
        client = redis.Redis.from_url(REDIS_URL)
        client.publish(bus.channel, "not json")
        client.publish(bus.channel, '{"id": "ch_1", "status": "expired"}')
        client.close()
        assert received.get(timeout=5).status == "expired"
    finally:
        bus.close()


def closed_port_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def test_without_redis_publishing_still_reaches_this_process(ctx):
    bus = redis_bus(ctx.store, url=closed_port_url())
    try:
        received, _ = collect(bus, "ch_1")
        bus.publish(StatusChanged("ch_1", "verified"))
        assert received.get(timeout=5) == StatusChanged("ch_1", "verified")
    finally:
        bus.close()


def test_without_redis_the_database_poller_takes_over(ctx, caplog):
    created = challenges.create_challenge(ctx, None, 120, {})
    bus = redis_bus(ctx.store, url=closed_port_url())
    try:
        received, _ = collect(bus, created.challenge.id)
        verify(ctx, created)  # committed by "another process": nothing reaches Redis
        assert received.get(timeout=5).status == "verified"
        assert bus.degraded
        assert "falling back to database polling" in caplog.text
    finally:
        bus.close()


def test_redis_outage_switches_to_polling_and_back(ctx, own_redis, caplog):
    url, start, stop = own_redis
    first = challenges.create_challenge(ctx, None, 120, {})
    bus = redis_bus(ctx.store, url=url)
    try:
        received, _ = collect(bus, first.challenge.id)
        assert bus.ready.wait(5)
        stop()
        verify(ctx, first)  # committed elsewhere while Redis is down
        assert received.get(timeout=5).status == "verified"
        assert bus.degraded and bus.fallback.active
        assert bus.health().state == "degraded"  # readiness reports it, still ready
        start()
        assert bus.ready.wait(10)  # cleared when the outage was noticed
        assert not bus.degraded and not bus.fallback.active
        assert bus.health().state == "ok"
        assert "redis reachable again" in caplog.text
        again, _ = collect(bus, "ch_2")
        bus.publish(StatusChanged("ch_2", "expired"))
        assert again.get(timeout=5).status == "expired"
    finally:
        bus.close()
