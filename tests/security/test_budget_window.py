"""A guess is tested only under a charge every later message of its sender sees.

The attack: a sender with one failure left sends a wrong guess and, while the server is
still deciding it, a second message carrying the right code. If the first guess had been
tested and its charge then set aside (to be counted again later), the second message would
be tested against a budget that does not count the first one, and verify: a burst of
concurrent messages would buy as many guesses as it holds, whatever the budget.

Here the first message is held just after its first statement that reads or changes
challenges (the moment its guess is tested) until the second has been answered, or for 3 s
when the second waits behind the first (as it must). The second message must not verify.
Runs on SQLite, and on PostgreSQL when REVERSE_OTP_TEST_DATABASE_URL names one.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import event

from app.runtime import EXTENSION
from tests.conftest import AUTH, NUMBER
from tests.security.helpers import create, outcome, send_sms

SENDER = "+14155550142"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "numbers": [{"number": NUMBER, "provider": "simulator"}],
        "limits": {"sender_failures": "1/hour"},
    }


def wrong(code: str, alphabet: str) -> str:
    """The code with its last character replaced by another of the alphabet."""
    other = next(c for c in alphabet if c != code[-1])
    return code[:-1] + other


def test_a_guess_held_mid_decision_leaves_no_budget_to_the_next_message(app, client):
    made = create(client)  # a discovery challenge: any sender holding its code verifies it
    alphabet = app.extensions[EXTENSION].ctx.policy.format_for(True).alphabet
    engine = app.extensions[EXTENSION].ctx.store.writer
    first_tested, second_done = threading.Event(), threading.Event()
    first: dict[str, Any] = {}
    second: dict[str, Any] = {}

    def hold(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        text = statement.lower()
        touches = "challenges" in text or "reverse_otp_" in text
        if threading.current_thread().name == "first" and touches and not first_tested.is_set():
            first_tested.set()
            second_done.wait(timeout=3)

    def send(name: str, text: str, into: dict[str, Any]) -> None:
        into["outcome"] = outcome(send_sms(app.test_client(), SENDER, text))
        if name == "second":
            second_done.set()

    event.listen(engine, "after_cursor_execute", hold)
    try:
        guess = f"VERIFY {wrong(made['code'], alphabet)}"
        one = threading.Thread(target=send, args=("first", guess, first), name="first")
        one.start()
        assert first_tested.wait(timeout=10), "the first message never reached the challenges"
        two = threading.Thread(target=send, args=("second", made["body"], second), name="second")
        two.start()
        one.join(timeout=30)
        two.join(timeout=30)
    finally:
        event.remove(engine, "after_cursor_execute", hold)
    assert first["outcome"] == "unknown_code"
    assert second["outcome"] == "sender_blocked", second
    status = client.get(f"/api/v1/challenges/{made['id']}", headers=AUTH).json["status"]
    assert status == "pending"
