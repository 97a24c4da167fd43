"""Any other provider or in-house gateway: every field path is a setting.

Fields: `fields = {id = "id", sender = "from", recipient = "to", text = "text"}` (the defaults),
read from the query, the form or the JSON body; `messages` names a JSON list of messages;
`number` is the receiving number when the payload has none. Authenticity: optionally an HMAC of
the raw body in a header (`signature_header`, `signature_secret`, `signature_algorithm` sha256 by
default, `signature_encoding` hex or base64), else the generic guards (path token, HTTP Basic,
IP allow-list). A signature covers the body only: a signed request with a query string is
refused. Answer: 200, empty.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from app.providers.base import (
    Defaults,
    Part,
    Rejected,
    SettingsError,
    WebhookRequest,
    optional,
    same,
)
from app.providers.mapped import Mapped


class Generic(Mapped):
    name: ClassVar[str] = "generic"
    auth_key: ClassVar[str] = "signature_secret"
    FIELDS: ClassVar[dict[str, str]] = {
        "id": "id",
        "sender": "from",
        "recipient": "to",
        "text": "text",
    }

    def __init__(self, section: Mapping[str, Any], defaults: Defaults) -> None:
        super().__init__(section, defaults)
        self.header = optional(section, self.name, "signature_header")
        self.secret = optional(section, self.name, "signature_secret")
        self.algorithm = optional(section, self.name, "signature_algorithm", "sha256")
        self.encoding = optional(section, self.name, "signature_encoding", "hex")
        if self.algorithm not in ("sha1", "sha256", "sha512") or self.encoding not in (
            "hex",
            "base64",
        ):
            raise SettingsError(
                f"providers.{self.name}.signature_algorithm: sha1, sha256 or sha512; "
                "signature_encoding: hex or base64"
            )
        if bool(self.header) != bool(self.secret):
            raise SettingsError(
                f"providers.{self.name}.signature_secret: set both signature_header and secret"
            )
        self.signed = bool(self.secret)

    def sign(self, body: bytes) -> str:
        """Return the signature expected for a raw body."""
        digest = hmac.new(self.secret.encode(), body, self.algorithm).digest()
        return digest.hex() if self.encoding == "hex" else base64.b64encode(digest).decode()

    def verify(self, request: WebhookRequest, now: datetime) -> None:
        if not self.secret:
            return
        given = request.header(self.header)
        if not given:
            raise Rejected("missing_signature")
        expected = self.sign(request.body)
        given = given.strip().lower() if self.encoding == "hex" else given.strip()
        if not same(expected, given):
            raise Rejected("bad_signature")

    def covers(self, request: WebhookRequest) -> Part:
        return Part.BODY if self.signed else Part.ALL
