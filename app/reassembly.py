"""Use case: receive what an adapter parsed, reassembling long SMS delivered in parts.

A part is stored (unique on provider and message id, so a retried part changes nothing) in
one transaction that locks its group and reads the group's parts back. When every part is
there, the whole message is recorded through `services.record_inbound` under an id derived
from the group, so it is matched exactly once however many deliveries see the group complete
(parts racing, out of order, or a retry after a failure between the two transactions). The
transaction that completes a group closes it, so a later long SMS that reuses the
concatenation reference starts a new group instead of being taken for a retry.
"""

from __future__ import annotations

from app import services
from app.domain.challenges import InboundMessage, Outcome, Verdict
from app.domain.parts import MessagePart, assemble, closed_key


def receive(ctx: services.Context, item: InboundMessage | MessagePart) -> Verdict:
    """Record a whole message, or store a part and record the message once it is complete."""
    if isinstance(item, InboundMessage):
        return services.record_inbound(ctx, item)
    return record_part(ctx, item)


def record_part(ctx: services.Context, part: MessagePart) -> Verdict:
    """Store one part; record the assembled message when it completes the group."""
    with ctx.store.begin() as tx:
        key, stored = tx.add_part(part, ctx.clock.now())
        texts = {i: text for i, (_, text) in stored.items()}
        whole = assemble(part, texts, {i: m for i, (m, _) in stored.items()})
        if whole is not None and key != closed_key(whole):
            tx.close_group(part.message.provider, key, closed_key(whole))
    if whole is None:
        return Verdict(Outcome.PARTIAL)
    verdict = services.record_inbound(ctx, whole)
    _mask_parts(ctx, part.message.provider, closed_key(whole), texts, whole)
    return verdict


def _mask_parts(
    ctx: services.Context, provider: str, key: str, texts: dict[int, str], whole: InboundMessage
) -> None:
    """Keep the parts of a recorded long SMS with its codes masked, codes split across parts
    included (masking keeps lengths, so the masked whole text cuts back into the parts)."""
    masked, start, found = ctx.policy.mask(whole.text), 0, {}
    for index in sorted(texts):
        end = start + len(texts[index])
        if masked[start:end] != texts[index]:
            found[index] = masked[start:end]
        start = end
    if found:
        with ctx.store.begin() as tx:
            tx.set_part_texts(provider, key, found)
