"""Concurrent deliveries through the real webhook route: one effect each, nothing lost.

Runs on SQLite, and on PostgreSQL when REVERSE_OTP_TEST_DATABASE_URL names one.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from app.usecases import challenges
from tests.conftest import NUMBER
from tests.security.helpers import create, outcome, send_sms

PARALLEL = 200


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "numbers": [{"number": NUMBER, "provider": "simulator"}],
        "codes": {"max_attempts": 100},
        "limits": {"sender_failures": "1000/hour"},
    }


def all_at_once(app, job: Callable[[Any, int], Any]) -> list[Any]:
    """Run job(client, n) for n in range(PARALLEL), released together by a barrier."""
    barrier = threading.Barrier(PARALLEL)

    def run(n: int) -> Any:
        client = app.test_client()
        barrier.wait()
        return job(client, n)

    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(run, range(PARALLEL)))


def sender(n: int) -> str:
    return f"+1415555{n:04d}"


def test_two_hundred_deliveries_of_one_message_verify_once(app, client, ctx):
    made = create(client)
    results = all_at_once(
        app, lambda c, n: outcome(send_sms(c, "+14155550123", made["body"], "SM-same"))
    )
    assert Counter(results) == {"matched": 1, "duplicate": PARALLEL - 1}
    assert challenges.get_challenge(ctx, made["id"]).verified_phone == "+14155550123"


def test_two_hundred_senders_of_one_discovery_code_verify_at_most_one_number(app, client, ctx):
    made = create(client)
    results = all_at_once(app, lambda c, n: outcome(send_sms(c, sender(n), made["body"])))
    counts = Counter(results)
    assert counts["matched"] == 1
    assert counts["already_settled"] == PARALLEL - 1
    challenge = challenges.get_challenge(ctx, made["id"])
    winner = results.index("matched")
    assert challenge.verified_phone == sender(winner)


def test_two_hundred_wrong_senders_are_all_counted(app, client, ctx):
    made = create(client, phone="+14155550123")
    results = all_at_once(app, lambda c, n: outcome(send_sms(c, sender(n + 1000), made["body"])))
    counts = Counter(results)
    challenge = challenges.get_challenge(ctx, made["id"])
    assert challenge.attempts == 100  # max_attempts: every one counted, none lost
    assert challenge.status.value == "failed"
    assert counts == {"wrong_sender": 100, "already_settled": PARALLEL - 100}


def test_two_hundred_wrong_codes_from_one_sender_are_all_counted(app, ctx, clock):
    results = all_at_once(
        app, lambda c, n: outcome(send_sms(c, "+14155550199", f"VERIFY {n:013d}"))
    )
    assert Counter(results) == {"unknown_code": PARALLEL}
    assert ctx.limits is not None
    key = ctx.limits._key("sender", "+14155550199")
    assert ctx.limits.counters.peek(key, clock.now()).value == PARALLEL


SIM_ONLY = [{"number": NUMBER, "provider": "simulator"}]


@pytest.mark.parametrize(
    "settings_overrides", [{"numbers": SIM_ONLY, "limits": {"sender_failures": "10/hour"}}]
)
def test_concurrent_guesses_never_exceed_a_senders_budget(app):
    results = all_at_once(
        app, lambda c, n: outcome(send_sms(c, "+14155550199", f"VERIFY {n:013d}"))
    )
    assert Counter(results) == {"unknown_code": 10, "sender_blocked": PARALLEL - 10}
