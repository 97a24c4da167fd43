"""Two gunicorn workers: a stream held by one worker learns of a webhook handled by the other,
through the database poller (no Redis) and through Redis pub/sub."""

from __future__ import annotations

import secrets

import pytest

from tests.backends import REDIS_URL, require_redis
from tests.conftest import NUMBER, SIM_SECRET, base_settings
from tests.e2e.live import RawPost, SseClient, create, owner, signed_sms
from tests.e2e.server import free_port, running_server, write_config

pytestmark = pytest.mark.e2e
MAX_STREAMS = 16


def serve(tmp_path, port, **events):
    raw = base_settings(tmp_path, events=events, streams={"max_per_ip": 0, "heartbeat": 1})
    raw["server"]["public_url"] = f"http://127.0.0.1:{port}"
    raw["numbers"] = [{"number": NUMBER, "provider": "simulator"}]
    return write_config(tmp_path / "config.toml", raw)


def open_streams_on_both_workers(base, port, opened):
    """Open streams (one challenge each) until both workers hold at least one."""
    streams = {}
    for _ in range(MAX_STREAMS):
        created = create(base, "test-api-key-0123456789-abcdefghijk")
        client = SseClient(base, f"/api/v1/status/{created['token']}/events")
        opened.append(client)
        assert client.status == 200
        assert client.next_event()[0] == "pending"
        streams[owner(port, client.local_port)] = (created, client)
        if len(streams) == 2:
            return streams
    raise AssertionError(f"all {MAX_STREAMS} streams landed on one worker")


def webhook_on_other_worker(base, port, streams):
    """Send the SMS of the challenge streamed by the worker that did not take this webhook."""
    conn = RawPost(base)
    handler = owner(port, conn.local_port)
    (stream_pid,) = [pid for pid in streams if pid != handler]
    created, client = streams[stream_pid]
    body, headers = signed_sms(SIM_SECRET, NUMBER, created["body"])
    status, answer = conn.post("/webhooks/simulator", body, headers)
    conn.close()
    assert status == 200, answer
    assert b"matched" in answer
    return client, handler, stream_pid


def check_cross_worker_delivery(tmp_path, **events):
    port = free_port()
    config = serve(tmp_path, port, **events)
    with running_server(tmp_path, config=config, port=port, workers=2) as base:
        opened = []
        try:
            streams = open_streams_on_both_workers(base, port, opened)
            client, handler, stream_pid = webhook_on_other_worker(base, port, streams)
            assert handler != stream_pid
            name, data = client.next_event()
            assert (name, data["status"]) == ("verified", "verified")
        finally:
            for client in opened:
                client.close()


def test_stream_on_one_worker_sees_a_webhook_on_the_other_without_redis(tmp_path):
    check_cross_worker_delivery(tmp_path, backend="memory", poll_interval=0.2)


def test_stream_on_one_worker_sees_a_webhook_on_the_other_with_redis(tmp_path):
    require_redis()
    channel = f"test:{secrets.token_hex(8)}"
    check_cross_worker_delivery(
        tmp_path, backend="redis", redis_url=REDIS_URL, redis_channel=channel, poll_interval=0
    )
