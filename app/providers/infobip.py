"""Infobip inbound SMS (MO_JSON_2 renderer), batched.

Docs: https://www.infobip.com/docs/api/channels/sms/inbound-sms/receive-inbound-sms-messages

Request: POST JSON with `results[]`, several messages per request, each handled. Fields relied on
per result: messageId, from (digits, may be alphanumeric), to, text. Authenticity: Infobip signs
nothing by default (the HMAC of its subscription security settings is undocumented), so the
generic guards apply: HTTP Basic (`basic_username`/`basic_password`, matching a BASIC security
setting) or a path token. Answer: 200.
"""

from __future__ import annotations

from typing import ClassVar

from app.providers.mapped import Mapped


class Infobip(Mapped):
    name: ClassVar[str] = "infobip"
    FIELDS: ClassVar[dict[str, str]] = {
        "id": "messageId",
        "sender": "from",
        "recipient": "to",
        "text": "text",
    }
    LIST: ClassVar[str] = "results"
    INTERNATIONAL = True
