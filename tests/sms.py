"""Helpers for tests that verify challenges through the simulator webhook."""

from __future__ import annotations

import json
import secrets
from typing import Any

from sqlalchemy import select

from app.domain import codes
from app.domain.challenges import InboundMessage
from app.providers.simulator import HEADER, sign
from app.store.tables import inbound_messages
from tests.conftest import AUTH, NUMBER, SIM_SECRET


def create_on_simulator(client: Any, **body: Any) -> dict[str, Any]:
    """Create a challenge on the simulator's number (numbers take turns, so retry once)."""
    for _ in range(4):
        created: dict[str, Any] = client.post("/api/v1/challenges", json=body, headers=AUTH).json
        if created["to"] == NUMBER:
            return created
    raise AssertionError("no challenge landed on the simulator number")


def text_in(client: Any, text: str, sender: str = "+33612345678", to: str = NUMBER) -> Any:
    """Deliver a signed simulator SMS; return the webhook's answer."""
    payload = {"from": sender, "to": to, "text": text, "id": "sim-" + secrets.token_hex(6)}
    body = json.dumps(payload)
    return client.post(
        "/webhooks/simulator",
        data=body,
        content_type="application/json",
        headers={HEADER: sign(SIM_SECRET, body.encode())},
    )


def random_code(length: int = 13) -> str:
    """Return a guessed code: random Crockford characters, the first a digit from 2 to 9.

    Extraction strips a template word glued in front of a code (folded, such words hold only
    letters, 0 and 1), so a guess starting with one would read as no code at all.
    """
    return secrets.choice("23456789") + "".join(
        secrets.choice(codes.CROCKFORD) for _ in range(length - 1)
    )


def inbound_sms(code: str, sender: str, message_id: str = "m1") -> InboundMessage:
    """A simulator SMS carrying `VERIFY <code>` to the simulator's number, as a provider
    adapter hands it to the use cases."""
    return InboundMessage(
        provider="simulator",
        message_id=message_id,
        sender=sender,
        to=NUMBER,
        text=f"VERIFY {code}",
        sender_e164=sender,
        raw={"id": message_id},
    )


def stored_outcomes(ctx: Any) -> list[tuple[str, str | None]]:
    """Each stored inbound message's outcome and challenge, in the order they were stored."""
    query = select(inbound_messages.c.outcome, inbound_messages.c.challenge_id).order_by(
        inbound_messages.c.id
    )
    with ctx.store.reader.connect() as conn:
        return [(row.outcome, row.challenge_id) for row in conn.execute(query)]
