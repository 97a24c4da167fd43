"""smsmode reply ("SMS answer") notification by URL, an HTTP GET with query parameters.

Docs: https://www.smsmode.com/en/reponse-sms/ ; the parameter names are unconfirmed (the
defaults follow smsmode's HTTP API 1.6 naming: numero, message, smsID, destinataire) and
are settings. Charset: parameters are read as UTF-8.

No signature: authenticated by the generic guards (path token, HTTP Basic, IP allow-list).
"""

from __future__ import annotations

from typing import ClassVar

from app.providers.mapped import Mapped


class Smsmode(Mapped):
    name: ClassVar[str] = "smsmode"
    FIELDS: ClassVar[dict[str, str]] = {
        "id": "smsID",
        "sender": "numero",
        "recipient": "destinataire",
        "text": "message",
    }
    INTERNATIONAL = True
