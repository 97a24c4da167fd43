"""The matching rule is written once: `app/domain/challenges.py` `match`.

The store's statements (`app/store/statements.py`) are its database form: the one-statement
verification the webhook path tries first, the lookup by code, and the transitions applied
after a verdict. Random challenges and messages go through both, on SQLite and on
PostgreSQL, and must come out the same.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.challenges import Challenge, InboundMessage, Outcome, Status, match
from tests.engines import store_on_both_engines

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
NUMBERS = ("+15017122661", "+15017122662")
PHONES = ("+14155552671", "+33612345678")


store = store_on_both_engines()


cases = st.fixed_dictionaries(
    {
        "status": st.sampled_from(list(Status)),
        "expires_in": st.integers(-120, 120),
        "number": st.sampled_from(NUMBERS),
        "expected": st.sampled_from((None, *PHONES)),
        "attempts": st.integers(0, 4),
        "to": st.sampled_from(NUMBERS),
        "sender": st.sampled_from((None, *PHONES)),
        "channels": st.sampled_from((("sms",), ("whatsapp",), ("sms", "whatsapp"))),
        "channel": st.sampled_from(("sms", "whatsapp")),
    }
)


def challenge_of(n: int, case: dict[str, Any]) -> Challenge:
    final = case["status"] is not Status.PENDING
    return Challenge(
        id=f"ch_{n}",
        number=case["number"],
        code_hash=f"code-{n}",
        token_hash=f"token-{n}",
        code_sealed=b"sealed",
        created_at=NOW - timedelta(minutes=5),
        expires_at=NOW + timedelta(seconds=case["expires_in"]),
        phone=case["expected"],
        status=case["status"],
        attempts=case["attempts"],
        max_attempts=5,
        ended_at=NOW - timedelta(minutes=1) if final else None,
        channels=case["channels"],
    )


def message_of(n: int, case: dict[str, Any]) -> InboundMessage:
    return InboundMessage(
        provider="simulator",
        message_id=f"m{n}",
        sender=case["sender"] or "ACME",
        to=case["to"],
        text="code",
        sender_e164=case["sender"],
        channel=case["channel"],
    )


def test_the_store_and_the_domain_decide_every_message_alike(store):
    numbering = itertools.count()

    @settings(
        max_examples=80,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(case=cases)
    def check(case: dict[str, Any]) -> None:
        n = next(numbering)
        challenge, message = challenge_of(n, case), message_of(n, case)
        with store.begin() as tx:
            assert tx.add_challenge(challenge)
        verdict = match(challenge, message, NOW)
        hashes = [challenge.code_hash]
        with store.begin() as tx:
            # The lookup by code keeps rule 4 (another number: no challenge carries the code).
            found = tx.find_by_code(message.to, hashes)
            assert match(found, message, NOW) == verdict
            at_once = None
            if message.sender_e164 is not None:
                at_once = tx.verify_by_code(
                    message.to, hashes, message.sender_e164, NOW, message.channel
                )
            # The one-statement verification holds exactly MATCHED's conditions.
            assert (at_once is not None) == (verdict.outcome is Outcome.MATCHED)
        after = store.challenge(challenge.id)
        assert after is not None
        if verdict.outcome is Outcome.MATCHED:
            assert (after.status, after.verified_phone) == (Status.VERIFIED, message.sender_e164)
            assert after.channel == message.channel
            return
        # Every other verdict leaves the challenge alone until it is applied, as the use case does.
        assert (after.status, after.attempts) == (challenge.status, challenge.attempts)
        with store.begin() as tx:
            if verdict.outcome is Outcome.WRONG_SENDER:
                counted = tx.count_attempt(challenge.id, NOW)
                assert counted is not None
                assert counted.attempts == challenge.attempts + 1
                assert counted.status is (verdict.new_status or Status.PENDING)
                failed = verdict.new_status is Status.FAILED
                assert counted.failure_reason == ("too_many_attempts" if failed else None)
            elif verdict.outcome is Outcome.EXPIRED:
                assert tx.end(challenge.id, Status.EXPIRED, NOW)
            elif verdict.outcome is Outcome.ALREADY_SETTLED:
                assert not tx.end(challenge.id, Status.EXPIRED, NOW)
                assert not tx.verify(challenge.id, PHONES[0], NOW, message.channel)

    check()


def test_the_by_id_verification_holds_the_channel_rule_too(store):
    offered = Challenge(
        id="ch_wa",
        number=NUMBERS[0],
        code_hash="code-wa",
        token_hash="token-wa",
        code_sealed=b"sealed",
        created_at=NOW,
        expires_at=NOW + timedelta(minutes=5),
        channels=("whatsapp",),
    )
    with store.begin() as tx:
        assert tx.add_challenge(offered)
    with store.begin() as tx:
        assert not tx.verify(offered.id, PHONES[0], NOW, "sms")
        assert tx.verify(offered.id, PHONES[0], NOW, "whatsapp")
    after = store.challenge(offered.id)
    assert after is not None
    assert (after.status, after.channel, after.channels) == (
        Status.VERIFIED,
        "whatsapp",
        ("whatsapp",),
    )
