"""The matching rule is written once: `app/domain/challenges.py` `match`.

The store's statements (`app/store/statements.py`) are its database form: the one-statement
verification the webhook path tries first, the lookup by code, and the transitions applied
after a verdict. Random challenges and messages go through both, on SQLite and on
PostgreSQL, and must come out the same.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.domain import budget
from app.domain.apps import DEFAULT_APP_ID, App
from app.domain.challenges import Challenge, InboundMessage, Outcome, Status, match
from app.domain.rates import Rate
from app.limits.rules import OFF, Limits, Rules
from app.limits.sql_counters import SqlCounters
from app.store.base import QuickMatch, Settled, Step
from app.store.sql import SqlTx
from app.store.tables import inbound_messages, limit_counters
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


# The one-step verification (`Tx.settle_match`: one UPDATE on SQLite, the function
# reverse_otp_settle_match on PostgreSQL) holds, besides MATCHED's conditions, those of the
# sender budget (Limits.sender_attempt and sender_success, run here on the same counters),
# the redelivery check and the callback rule. When one fails, SQLite writes nothing (the
# full decision follows in the same transaction); PostgreSQL, once it has tested the codes,
# keeps the message stored as received and its reservation, for the full decision to finish.

APPS = (App("app_calls", "calls back", callback_url="https://a.test/cb"), App("app_quiet", "q"))
OWNERS = {  # (challenge's app, its own callback URL, the default app's callback URL)
    "default": (None, None, None),
    "default calls back": (None, None, "https://d.test/cb"),
    "own callback": (None, "https://c.test/cb", None),
    "app calls back": ("app_calls", None, None),
    "quiet app": ("app_quiet", None, None),
    "unknown app": ("app_gone", None, None),
}

# Cases where `match` says matched (or wrong_sender), so the other gates are reached.
matching = st.sampled_from(PHONES).flatmap(
    lambda phone: st.fixed_dictionaries(
        {
            "status": st.just(Status.PENDING),
            "expires_in": st.integers(1, 120),
            "number": st.just(NUMBERS[0]),
            "expected": st.sampled_from((None, phone, *(p for p in PHONES if p != phone))),
            "attempts": st.integers(0, 4),
            "to": st.just(NUMBERS[0]),
            "sender": st.just(phone),
            "channels": st.just(("sms", "whatsapp")),
            "channel": st.sampled_from(("sms", "whatsapp")),
        }
    )
)

settles = st.fixed_dictionaries(
    {
        "challenge": st.one_of(cases, matching, matching),
        "limit": st.sampled_from((0, 1, 2, 3)),  # 0: the budget is off
        # (count, seconds its window has left): 0 or less, the window has ended.
        "spent": st.sampled_from((None, (0, 60), (1, 60), (2, 60), (3, 60), (5, -1), (3, 0))),
        "block": st.sampled_from((None, (1, 60), (1, -1), (0, 60), (0, 60), (1, 0))),
        "decoy": st.sampled_from(("none", "first", "last")),
        "stored": st.sampled_from((False, False, True)),
        "owner": st.sampled_from(("default", "default", "quiet app", *sorted(OWNERS))),
    }
)


def counters_of(store: Any, keys: tuple[str, ...]) -> dict[str, tuple[int, datetime]]:
    with store.reader.connect() as conn:
        rows = conn.execute(select(limit_counters).where(limit_counters.c.key.in_(keys)))
        return {r.key: (r.count, r.reset_at) for r in rows}


def stored_messages(store: Any, message_id: str) -> list[tuple[str, str | None]]:
    query = select(inbound_messages.c.outcome, inbound_messages.c.challenge_id).where(
        inbound_messages.c.message_id == message_id
    )
    with store.reader.connect() as conn:
        return [tuple(r) for r in conn.execute(query)]


def budget_says(store: Any, limits: Limits, sender: str, spends: bool) -> tuple[bool, Any]:
    """Run the full decision's budget steps on the same counters and roll them back: whether
    the message may be tested, and the counters a free or spending verification leaves."""
    keys = _keys(limits, sender)
    with store.writer.connect() as conn:
        trans = conn.begin()
        tx = SqlTx(conn, store.sql)
        allowed = limits.sender_attempt(sender, NOW, tx) is None
        if allowed and not spends:
            limits.sender_success(sender, NOW, tx)
        rows = conn.execute(select(limit_counters).where(limit_counters.c.key.in_(keys)))
        after = {r.key: (r.count, r.reset_at) for r in rows}
        trans.rollback()
    return allowed, after


def _keys(limits: Limits, sender: str) -> tuple[str, ...]:
    found = limits.sender_budget(sender)
    return () if found is None else (found.counter, found.block)


def decoy_of(n: int) -> Challenge:
    """Another pending challenge on the first number that any sender may verify."""
    return replace(
        challenge_of(n, {**DECOY, "number": NUMBERS[0]}),
        id=f"ch_{n}_decoy",
        code_hash=f"decoy-{n}",
        token_hash=f"token-{n}-decoy",
    )


DECOY = {"status": Status.PENDING, "expires_in": 60, "expected": None, "attempts": 0}
DECOY |= {"channels": ("sms", "whatsapp")}


def test_the_one_step_verification_decides_as_the_full_decision(store):
    for app in APPS:
        store.add_app(replace(app, created_at=NOW))
    numbering = itertools.count(1000)

    @settings(
        max_examples=400,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(case=settles)
    def check(case: dict[str, Any]) -> None:
        n = next(numbering)
        app_id, own_url, default_url = OWNERS[case["owner"]]
        challenge = replace(challenge_of(n, case["challenge"]), app_id=app_id, callback_url=own_url)
        message = message_of(n, case["challenge"])
        if message.sender_e164 is None:
            return  # no phone: the use case takes the full decision
        sender = message.sender_e164
        rules = Rules(OFF, OFF, OFF, 10**6, Rate(case["limit"], 600), 900)
        limits = Limits(SqlCounters(store), rules, lambda value: f"{n}:{value}")
        keys = _keys(limits, sender)
        # The message's codes in order: the challenge's, and another challenge's before or
        # after it (the first code naming a challenge the sender may verify wins).
        offered = {"none": [challenge], "first": [decoy_of(n), challenge]}
        offered["last"] = [challenge, decoy_of(n)]
        named = offered[case["decoy"]]
        with store.begin() as tx:
            for item in named:
                assert tx.add_challenge(item)
            if case["stored"]:
                assert tx.add_inbound(message, NOW - timedelta(seconds=5)) is not None
            for key, state in zip(keys, (case["spent"], case["block"]), strict=False):
                if state is not None:
                    tx.hit_counter(key, state[1], NOW, state[0])
        before_counters, before_messages = counters_of(store, keys), stored_messages(store, f"m{n}")
        spends = budget.spends(Outcome.MATCHED, len(named))
        postgres = store.writer.dialect.name == "postgresql"

        allowed, budget_after = budget_says(store, limits, sender, spends)
        _, budget_reserved = budget_says(store, limits, sender, True)
        winner = next((c for c in named if match(c, message, NOW).matched), None)
        if winner is challenge:
            calls_back = own_url or (default_url if app_id is None else app_id == "app_calls")
        else:  # the other challenge is the default app's, with no callback URL of its own
            calls_back = default_url
        expected = winner is not None and allowed and not case["stored"] and not calls_back

        with store.begin() as tx:
            step = tx.settle_match(
                QuickMatch(
                    message=message,
                    phone=sender,
                    hashes=[c.code_hash for c in named],
                    now=NOW,
                    spends=spends,
                    budget=limits.sender_budget(sender),
                    default_app_id=DEFAULT_APP_ID,
                    default_callback=default_url is not None,
                )
            )

        settled = step if isinstance(step, Settled) else None
        assert (settled is not None) == expected
        for item in named:
            after = store.challenge(item.id)
            assert after is not None
            if expected and item is winner:
                assert settled == Settled(item.id, item.created_at)
                assert (after.status, after.verified_phone, after.channel) == (
                    Status.VERIFIED,
                    sender,
                    message.channel,
                )
            else:  # every other challenge is left as it was
                assert after == item
        if expected:
            assert winner is not None
            assert stored_messages(store, f"m{n}") == [("matched", winner.id)]
            assert counters_of(store, keys) == budget_after
        elif postgres and allowed and not case["stored"]:
            # Its codes were tested under the reservation, which stays: the message is
            # stored undecided and charged, for the full decision to finish.
            assert step is Step.UNDECIDED
            assert stored_messages(store, f"m{n}") == [("received", None)]
            assert counters_of(store, keys) == budget_reserved
        else:  # nothing tested or nothing written: the full decision runs as before
            undecided = postgres and case["stored"]  # stored as received: finish it
            assert step is (Step.UNDECIDED if undecided else Step.DECLINED)
            assert stored_messages(store, f"m{n}") == before_messages
            assert counters_of(store, keys) == before_counters

    check()
