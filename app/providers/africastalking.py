"""Africa's Talking incoming messages callback (Dashboard > SMS > SMS Callback URLs).

Docs: https://developers.africastalking.com/docs/sms/notifications
Request: form POST with from, to, text, id (also date, linkId, networkCode).

No signature: authenticated by the generic guards (path token, HTTP Basic, IP allow-list).
"""

from __future__ import annotations

from typing import ClassVar

from app.providers.mapped import Mapped


class AfricasTalking(Mapped):
    name: ClassVar[str] = "africastalking"
    FIELDS: ClassVar[dict[str, str]] = {
        "id": "id",
        "sender": "from",
        "recipient": "to",
        "text": "text",
    }
