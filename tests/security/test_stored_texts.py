"""Stored inbound texts keep no code in clear: every code candidate is masked in the text and
in every string of the raw payload, whatever the message did (even a wrong sender's SMS
carrying a pending code, which still works for its owner)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.domain import codes
from app.store.tables import inbound_messages
from app.usecases import challenges, context, inbound, texts
from tests.conftest import NUMBER
from tests.security.helpers import outcome, send_sms

PHONE = "+33612345678"
ATTACKER = "+14155550199"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"numbers": [{"number": NUMBER, "provider": "simulator"}]}


def stored(ctx: context.Context) -> list[tuple[str, str]]:
    """Each stored message's text, and the strings of its raw payload joined by newlines."""
    with ctx.store.reader.connect() as conn:  # type: ignore[attr-defined]
        rows = conn.execute(select(inbound_messages.c.text, inbound_messages.c.raw))
        return [(r.text, "\n".join(strings(r.raw))) for r in rows]


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    return [s for item in value for s in strings(item)] if isinstance(value, list) else []


def spaced(code: str) -> str:
    return f"{code[:3]}-{code[3:]}"


def fullwidth(code: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) for c in code)


WRITINGS = {
    "as sent": lambda code: f"VERIFY {code} to sign in",
    "lower case": lambda code: f"verify {code.lower()}",
    "with a separator": lambda code: f"code: {spaced(code)} thanks",
    "in two words": lambda code: f"{code[:2]} {code[2:]}",
    "glued to the keyword": lambda code: f"VERIFY{code}",
    "full-width": lambda code: f"VERIFY {fullwidth(code)}",
}


@pytest.mark.parametrize("writing", list(WRITINGS))
def test_a_pending_code_from_a_wrong_phone_is_not_stored_in_clear(client, ctx, writing):
    made = challenges.create_challenge(ctx, PHONE, None, {})
    text = WRITINGS[writing](made.code)
    assert inbound.candidates_in(ctx.policy, text)[0] == made.code
    assert outcome(send_sms(client, ATTACKER, text)) == "wrong_sender"
    [(stored_text, raw)] = stored(ctx)
    for form in {made.code, made.code.lower(), spaced(made.code), fullwidth(made.code)}:
        assert form not in stored_text and form not in raw
    assert codes.MASK in stored_text
    assert inbound.candidates_in(ctx.policy, stored_text) == []
    assert not any(inbound.candidates_in(ctx.policy, line) for line in raw.splitlines())
    # The code still works for its owner.
    assert outcome(send_sms(client, PHONE, text)) == "matched"


def test_a_verifying_discovery_code_is_masked_and_the_rest_kept(client, ctx):
    made = challenges.create_challenge(ctx, None, None, {})
    text = texts.sms_text(ctx, made.code)
    assert outcome(send_sms(client, PHONE, text)) == "matched"
    [(stored_text, raw)] = stored(ctx)
    assert stored_text == text.replace(made.code, codes.MASK * len(made.code))
    assert made.code not in raw and PHONE in raw  # the other fields are kept


def test_every_code_of_a_guessing_sms_is_masked(client, ctx):
    guesses = ["ABCDEFGHJKMNP", "QRSTVWXYZ0123", "456789"]
    assert outcome(send_sms(client, ATTACKER, "VERIFY " + " ".join(guesses))) == "unknown_code"
    [(stored_text, raw)] = stored(ctx)
    assert stored_text == "VERIFY " + " ".join(codes.MASK * len(g) for g in guesses)
    assert not any(g in raw for g in guesses)


def test_masking_finds_codes_beyond_what_extraction_reads():
    fmt = codes.CodeFormat()
    many = [f"{n:06d}" for n in range(codes.MAX_CANDIDATES + 4)]
    masked = codes.mask(" ".join(many), [fmt])
    assert masked == " ".join(codes.MASK * 6 for _ in many)


def test_masking_hides_everything_when_a_code_survives_word_by_word_reading():
    fmt = codes.CodeFormat()
    ignore = codes.template_words(fmt.template, fmt.alphabet)
    text = "VERIFY AB\u338f12"  # the sign for kilograms folds into the letters KG
    assert codes.extract(text, fmt, ignore) == ["ABKG12"]
    masked = codes.mask(text, [fmt], ignore)
    assert codes.extract(masked, fmt, ignore) == []
    assert masked == "****** *****"


def test_raw_payload_strings_are_masked_at_any_depth():
    raw = {"a": ["x ABC123", {"b": "ABC-123"}], "n": 3, "ok": "hello"}
    masked = codes.mask_values(raw, lambda t: codes.mask(t, [codes.CodeFormat()]))
    assert masked == {"a": ["x ******", {"b": "*******"}], "n": 3, "ok": "hello"}
