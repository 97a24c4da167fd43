"""Guessing discovery codes: a million guesses through the real matching code find nothing,
and the sender limits stop one guessing sender long before."""

from __future__ import annotations

import os
import secrets
from typing import Any

import pytest

from app.config.schema import Settings
from app.crypto import KeyRing
from app.domain import codes
from app.usecases import challenges, context, inbound
from tests.conftest import NUMBER, SECRET
from tests.security.helpers import create, outcome, send_sms
from tests.sms import random_code

GUESSES = 1_000_000


def test_a_million_guesses_against_the_pending_cap_find_no_code():
    settings = Settings()  # the shipped defaults
    policy = context.Policy(
        code_format=settings.code_format,
        discovery_format=settings.discovery_format,
        numbers={NUMBER: "simulator"},
        operator_name=settings.server.name,
    )
    keys = KeyRing([SECRET.encode()])
    fmt = policy.format_for(discovery=True)
    assert (fmt.length, fmt.alphabet) == (13, codes.CROCKFORD)
    pending = settings.limits.max_pending
    live = {
        keys.digest(context.CODE_PURPOSE, f"{NUMBER}:{codes.generate(fmt, secrets.randbelow)}")
        for _ in range(pending)
    }
    assert len(live) == pending

    # Each random byte picks one of 32 characters uniformly (256 = 8 * 32).
    to_crockford = bytes(codes.CROCKFORD[b % 32].encode()[0] for b in range(256))
    guesses = hits = 0
    while guesses < GUESSES:
        letters = os.urandom(104).translate(to_crockford).decode()
        words = [letters[i : i + 13] for i in range(0, 104, 13)]
        # Real extraction, real keyed hashing under every key, then the lookup the store does.
        for candidate in inbound.candidates_in(policy, "VERIFY " + " ".join(words)):
            guesses += 1
            for digest in keys.digests(context.CODE_PURPOSE, f"{NUMBER}:{candidate}"):
                hits += digest in live

    bound = codes.guess_bound(fmt, pending, policy.ignore_words, messages=GUESSES // 8)
    print(f"\n{guesses:,} guesses vs {pending:,} codes: {hits} hits; bound {bound:.2e}")
    assert guesses >= GUESSES
    assert hits == 0


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"numbers": [{"number": NUMBER, "provider": "simulator"}]}


def test_sender_limits_stop_a_guessing_sender_long_before(client, clock, ctx):
    made = create(client)
    attacker = "+14155550199"
    matched_guesses = 0
    for hour in range(24):
        for _ in range(15):  # 15 guessed SMS an hour, 8 candidates each
            text = "VERIFY " + " ".join(random_code(13) for _ in range(8))
            result = outcome(send_sms(client, attacker, text))
            assert result in ("unknown_code", "sender_blocked")
            matched_guesses += 8 * (result == "unknown_code")
        clock.advance(3600)
        if hour == 0:
            assert matched_guesses == 8 * 10  # the default budget: 10 failures an hour
    # The cool-off starts at the 11th failure, so the sender gets 10 messages per hour.
    assert matched_guesses <= 24 * 10 * 8
    days_for_a_million = GUESSES / matched_guesses
    print(f"\none sender: {matched_guesses} guesses a day; 1e6 take {days_for_a_million:,.0f} days")
    assert days_for_a_million > 500
    assert challenges.get_challenge(ctx, made["id"]).verified_phone is None
