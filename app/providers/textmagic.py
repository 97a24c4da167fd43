"""Textmagic "callback URL for incoming messages" (API v2).

Docs: https://docs.textmagic.com/ (receive SMS); request encoding (form or JSON) is
unconfirmed, both are read. Fields: id, sender, receiver, text; numbers without "+".

No signature: authenticated by the generic guards (path token, HTTP Basic, IP allow-list).
"""

from __future__ import annotations

from typing import ClassVar

from app.providers.mapped import Mapped


class Textmagic(Mapped):
    name: ClassVar[str] = "textmagic"
    FIELDS: ClassVar[dict[str, str]] = {
        "id": "id",
        "sender": "sender",
        "recipient": "receiver",
        "text": "text",
    }
    INTERNATIONAL = True
