"""Record callback events in the outbox, inside the transaction that ends a challenge.

Because the outbox row commits or rolls back with the status change, a crash can neither
lose an event for a committed change nor announce a change that rolled back.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from app.domain import callbacks
from app.domain.apps import DEFAULT_APP_ID, App
from app.domain.challenges import Challenge
from app.store.base import NewCallback, Tx
from app.usecases.proofs import proof_for

if TYPE_CHECKING:
    from app.usecases.context import Context


def new_event_id() -> str:
    """Return a fresh event id (the webhook-id header; no dots, as the spec asks)."""
    return "evt_" + secrets.token_hex(16)


def enqueue(
    ctx: Context, tx: Tx, challenge_id: str, now: datetime, changed: Challenge | None = None
) -> str | None:
    """Record the callback announcing a challenge's new final status; return its event id.

    `changed` is the challenge as the change left it, when the statement that changed it
    returned it (else it is read again). Nothing is recorded when neither the challenge nor
    its app has a callback URL.
    """
    challenge = changed if changed is not None else tx.challenge(challenge_id)
    if challenge is None:
        return None
    kind = callbacks.event_type(challenge.status)
    app = owner(ctx, tx, challenge.app_id)
    url = challenge.callback_url or (app.callback_url if app else None)
    if kind is None or app is None or url is None or app.revoked:
        return None
    event_id = new_event_id()
    proof = proof_for(ctx, challenge, now)
    body = callbacks.event_body(challenge, event_id, now, app.full_phone, proof)
    tx.add_callback(NewCallback(event_id, app.id, challenge.id, kind, url, body, now))
    return event_id


def owner(ctx: Context, tx: Tx, app_id: str | None) -> App | None:
    """Return the app a challenge belongs to (the default app when none is recorded)."""
    if app_id is None or app_id == DEFAULT_APP_ID:
        return ctx.default_app
    return tx.app(app_id)
