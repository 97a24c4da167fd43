"""Use case: receive what an adapter parsed, reassembling long SMS delivered in parts.

A part is stored (unique on provider and message id, so a retried part changes nothing) in
one transaction that locks its group and reads the group's parts back. When every part is
there, the whole message is recorded through `services.record_inbound` under an id derived
from the group, so it is matched exactly once however many deliveries see the group complete
(parts racing, out of order, or a retry after a failure between the two transactions).
"""

from __future__ import annotations

from app import services
from app.domain.challenges import InboundMessage, Outcome, Verdict
from app.domain.parts import MessagePart, assemble


def receive(ctx: services.Context, item: InboundMessage | MessagePart) -> Verdict:
    """Record a whole message, or store a part and record the message once it is complete."""
    if isinstance(item, InboundMessage):
        return services.record_inbound(ctx, item)
    return record_part(ctx, item)


def record_part(ctx: services.Context, part: MessagePart) -> Verdict:
    """Store one part; record the assembled message when it completes the group."""
    with ctx.store.begin() as tx:
        stored = tx.add_part(part, ctx.clock.now())
    whole = assemble(
        part, {i: text for i, (_, text) in stored.items()}, {i: m for i, (m, _) in stored.items()}
    )
    if whole is None:
        return Verdict(Outcome.PARTIAL)
    return services.record_inbound(ctx, whole)
