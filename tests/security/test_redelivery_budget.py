"""A redelivered message is recognised before it is charged to its sender's budget, with the
counters in the database (they roll back) and in Redis (they do not)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from app.domain.challenges import InboundMessage, Outcome
from app.usecases import challenges, inbound
from tests.backends import REDIS_URL, require_redis
from tests.conftest import NUMBER
from tests.sms import random_code

SENDER = "+14155550199"
PREFIX = f"test-sec-matching-{uuid.uuid4().hex[:12]}:"


@pytest.fixture(params=["database", "redis"])
def settings_overrides(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    limits = {"sender_failures": "2/hour", "storage": request.param}
    if request.param == "redis":
        import redis

        require_redis()
        client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
        limits |= {"redis_url": REDIS_URL, "key_prefix": PREFIX}
    yield {"numbers": [{"number": NUMBER, "provider": "simulator"}], "limits": limits}
    if request.param == "redis":
        for key in client.scan_iter(match=PREFIX + "*", count=100):
            client.delete(key)
        client.close()


def guess(message_id: str) -> InboundMessage:
    code = random_code(13)
    return InboundMessage("simulator", message_id, SENDER, NUMBER, f"VERIFY {code}", SENDER)


def test_redelivered_failing_message_is_not_counted_again(ctx):
    first = guess("m1")
    assert inbound.record_inbound(ctx, first).outcome is Outcome.UNKNOWN_CODE
    for _ in range(3):
        assert inbound.record_inbound(ctx, first).outcome is Outcome.DUPLICATE
    # The budget of two holds exactly one more failure, then the cool-off.
    assert inbound.record_inbound(ctx, guess("m2")).outcome is Outcome.UNKNOWN_CODE
    assert inbound.record_inbound(ctx, guess("m3")).outcome is Outcome.SENDER_BLOCKED


def test_redelivered_verifying_message_is_not_counted(ctx):
    made = challenges.create_challenge(ctx, None, None, {})
    message = InboundMessage("simulator", "v1", SENDER, NUMBER, made.code, SENDER)
    assert inbound.record_inbound(ctx, message).matched
    for _ in range(3):
        assert inbound.record_inbound(ctx, message).outcome is Outcome.DUPLICATE
    assert inbound.record_inbound(ctx, guess("m2")).outcome is Outcome.UNKNOWN_CODE
    assert inbound.record_inbound(ctx, guess("m3")).outcome is Outcome.UNKNOWN_CODE
    assert inbound.record_inbound(ctx, guess("m4")).outcome is Outcome.SENDER_BLOCKED
