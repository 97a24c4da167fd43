"""A long SMS's group is closed once assembled: a later long SMS that reuses the same
concatenation reference starts a new group and is matched; retries of the first one's parts
still change nothing."""

from __future__ import annotations

from sqlalchemy import select

from app.store.tables import inbound_messages, message_parts
from tests.providers.helpers import challenge, new_challenge
from tests.providers.samples import SAMPLES, SENDER, build

REFERENCE = "A7"


def long_sms(clock, text: str, ids: tuple[str, str]) -> list:
    half = len(text) // 2
    pieces = [text[:half], text[half:]]
    return [
        build(
            "vonage",
            piece,
            SENDER,
            SAMPLES["vonage"].number,
            ids[i - 1],
            clock.now(),
            variant=f"concat:{REFERENCE}:{i}:2",
        )
        for i, piece in enumerate(pieces, start=1)
    ]


def test_a_reused_concatenation_reference_starts_a_new_group(make_app, clock):
    app = make_app("vonage")
    client = app.test_client()
    first = new_challenge(client)
    earlier = long_sms(clock, first["body"], ("p1", "p2"))
    for part in earlier:
        assert part.send(client).status_code == 204
    assert challenge(client, first["id"])["status"] == "verified"
    clock.advance(3600)
    second = new_challenge(client)
    later = long_sms(clock, second["body"], ("q1", "q2"))
    for part in later:
        assert part.send(client).status_code == 204
    assert challenge(client, second["id"])["status"] == "verified"


def test_retried_parts_of_a_closed_group_change_nothing(make_app, clock):
    app = make_app("vonage")
    client = app.test_client()
    first, second = new_challenge(client), new_challenge(client)
    earlier = long_sms(clock, first["body"], ("p1", "p2"))
    later = long_sms(clock, second["body"], ("q1", "q2"))
    for part in [*earlier, later[0], *earlier, later[1], *earlier, *later]:
        assert part.send(client).status_code == 204
    assert challenge(client, first["id"])["status"] == "verified"
    assert challenge(client, second["id"])["status"] == "verified"
    with app.extensions["reverse_otp"].ctx.store.reader.connect() as conn:
        outcomes = conn.execute(select(inbound_messages.c.outcome)).scalars().all()
        parts = conn.execute(select(message_parts.c.message_id)).scalars().all()
    assert sorted(outcomes) == ["matched", "matched"]
    assert sorted(parts) == ["p1", "p2", "q1", "q2"]


def test_parts_of_a_recorded_long_sms_keep_no_code_in_clear(make_app, clock):
    app = make_app("vonage")
    client = app.test_client()
    made = new_challenge(client)
    code = made["code"]
    for part in long_sms(clock, made["body"], ("p1", "p2")):
        assert part.send(client).status_code == 204
    assert challenge(client, made["id"])["status"] == "verified"
    with app.extensions["reverse_otp"].ctx.store.reader.connect() as conn:
        texts = conn.execute(select(message_parts.c.text).order_by(message_parts.c.part))
        joined = "".join(texts.scalars())
    assert len(joined) == len(made["body"])
    assert code not in joined and "*" * len(code) in joined
    # A retry of a part is still a retry.
    assert long_sms(clock, made["body"], ("p1", "p2"))[1].send(client).status_code == 204
    assert challenge(client, made["id"])["status"] == "verified"
