"""Parts of a concatenated SMS delivered one request each, and their reassembly."""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.domain.challenges import InboundMessage


@dataclass(frozen=True)
class MessagePart:
    """One part of a long SMS: the part as a message, its group, position (1-based) and count."""

    message: InboundMessage
    reference: str
    index: int
    total: int

    @property
    def group(self) -> str:
        """The key every part of one long SMS shares: sender, receiving number, reference."""
        return f"{self.message.sender}|{self.message.to}|{self.reference}"


def assemble(
    first: MessagePart, texts: dict[int, str], ids: dict[int, str]
) -> InboundMessage | None:
    """Return the whole message once every part 1..total is present, else None.

    Its id derives from the group's first part (a provider's message ids are unique), so
    however many times assembly happens (retries, parts racing) the store keeps and matches it
    once, and a later long SMS that reuses the reference is another message. Once assembled,
    the group is closed under that id (`closed_key`).
    """
    if set(texts) != set(range(1, first.total + 1)):
        return None
    return replace(
        first.message,
        message_id=f"concat:{ids[1]}"[:200],
        text="".join(texts[i] for i in sorted(texts)),
        raw={"concat-ref": first.reference, "parts": [ids[i] for i in sorted(ids)]},
    )


def closed_key(whole: InboundMessage) -> str:
    """The key an assembled group is kept under: its whole message's id (never an open key,
    which holds "|")."""
    return whole.message_id[:200]
