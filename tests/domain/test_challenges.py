"""The matching rules, in the order match() documents them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from app.domain import challenges as rules
from app.domain.challenges import Challenge, InboundMessage, Outcome, Status

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
PHONE = "+33612345678"
OTHER = "+33698765432"
NUMBER = "+15017122661"


def challenge(**override: object) -> Challenge:
    base = Challenge(
        id="ch_1",
        number=NUMBER,
        code_hash="h",
        token_hash="t",
        created_at=NOW,
        expires_at=NOW + timedelta(minutes=10),
    )
    return replace(base, **override)  # type: ignore[arg-type]


def message(sender: str | None = PHONE, to: str = NUMBER) -> InboundMessage:
    return InboundMessage("simulator", "m1", sender or "ACME", to, "VERIFY X", sender_e164=sender)


def whatsapp(m: InboundMessage) -> InboundMessage:
    return replace(m, channel="whatsapp")


@pytest.mark.parametrize(
    ("found", "msg", "now", "outcome", "new_status"),
    [
        (None, message(), NOW, Outcome.UNKNOWN_CODE, None),
        (challenge(), message(), NOW + timedelta(minutes=10), Outcome.EXPIRED, Status.EXPIRED),
        (challenge(status=Status.VERIFIED), message(), NOW, Outcome.ALREADY_SETTLED, None),
        (challenge(status=Status.CANCELLED), message(), NOW, Outcome.ALREADY_SETTLED, None),
        (challenge(), message(to="+14155550100"), NOW, Outcome.UNKNOWN_CODE, None),
        (challenge(), whatsapp(message()), NOW, Outcome.UNKNOWN_CODE, None),
        (challenge(channels=("whatsapp",)), message(), NOW, Outcome.UNKNOWN_CODE, None),
        (challenge(), message(sender=None), NOW, Outcome.INVALID_SENDER, None),
        (challenge(phone=PHONE), message(sender=OTHER), NOW, Outcome.WRONG_SENDER, None),
        (
            challenge(phone=PHONE, attempts=4),
            message(OTHER),
            NOW,
            Outcome.WRONG_SENDER,
            Status.FAILED,
        ),
        (challenge(phone=PHONE), message(), NOW, Outcome.MATCHED, Status.VERIFIED),
        (challenge(), message(sender=OTHER), NOW, Outcome.MATCHED, Status.VERIFIED),
        (
            challenge(channels=("sms", "whatsapp")),
            whatsapp(message()),
            NOW,
            Outcome.MATCHED,
            Status.VERIFIED,
        ),
    ],
    ids=[
        "no challenge",
        "expired",
        "already verified",
        "cancelled",
        "other virtual number",
        "channel not offered",
        "sms on a whatsapp-only challenge",
        "alphanumeric sender",
        "wrong sender",
        "wrong sender at the limit",
        "expected phone",
        "discovery",
        "whatsapp on a challenge offered on both",
    ],
)
def test_match_follows_its_rules_in_order(found, msg, now, outcome, new_status):
    verdict = rules.match(found, msg, now)
    assert verdict.outcome is outcome
    assert verdict.new_status is new_status


def test_expiry_is_checked_before_settlement_only_for_pending_challenges():
    verified = challenge(status=Status.VERIFIED)
    assert (
        rules.match(verified, message(), NOW + timedelta(hours=1)).outcome
        is Outcome.ALREADY_SETTLED
    )


@pytest.mark.parametrize(("requested", "seconds"), [(None, 600), (60, 60), (600, 600)])
def test_ttl_defaults_and_bounds(requested, seconds):
    assert rules.clamp_ttl(requested, 600, 60, 600) == timedelta(seconds=seconds)


@pytest.mark.parametrize("requested", [59, 601, -1, 0])
def test_ttl_out_of_bounds_is_refused(requested):
    with pytest.raises(ValueError, match="between 60 and 600"):
        rules.clamp_ttl(requested, 600, 60, 600)


def test_a_code_sent_to_another_number_is_unknown_even_once_its_challenge_expired():
    # The store looks a code up on the number the SMS went to; the rule says the same.
    verdict = rules.match(challenge(), message(to="+15550000000"), NOW + timedelta(hours=1))
    assert verdict == rules.Verdict(Outcome.UNKNOWN_CODE)
