"""Property: a long SMS split in parts, delivered in any order with any retries, verifies its
challenge exactly once, and only when its last missing part arrives."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.challenges import Outcome
from tests.providers.helpers import challenge, new_challenge
from tests.providers.samples import SAMPLES, SENDER, build


def test_parts_in_any_order_with_retries_verify_exactly_once(make_app, clock):
    app = make_app("vonage")

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def deliver(data):
        check_one_long_sms(app, clock, data)

    deliver()


def check_one_long_sms(app, clock, data):
    client = app.test_client()
    created = new_challenge(client)
    text = created["body"]
    cuts = sorted(data.draw(st.sets(st.integers(1, len(text) - 1), min_size=1, max_size=4)))
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    ref = created["id"][-8:]
    parts = [
        build(
            "vonage",
            p,
            SENDER,
            SAMPLES["vonage"].number,
            f"{ref}-{i}",
            clock.now(),
            variant=f"concat:{ref}:{i}:{len(pieces)}",
        )
        for i, p in enumerate(pieces, start=1)
    ]
    order = data.draw(st.permutations(range(len(parts))))
    retries = data.draw(st.lists(st.sampled_from(range(len(parts))), max_size=4))
    seen: set[int] = set()
    for index in [*order, *retries]:
        assert parts[index].send(client).status_code == 204
        seen.add(index)
        status = challenge(client, created["id"])["status"]
        assert status == ("verified" if len(seen) == len(parts) else "pending")
    from sqlalchemy import select

    from app.store.tables import inbound_messages

    with app.extensions["reverse_otp"].ctx.store.reader.connect() as conn:
        matched = conn.execute(
            select(inbound_messages.c.id).where(
                inbound_messages.c.challenge_id == created["id"],
                inbound_messages.c.outcome == Outcome.MATCHED.value,
            )
        ).all()
    assert len(matched) == 1
