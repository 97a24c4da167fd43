"""Vonage Messages API inbound SMS.

Docs: https://developer.vonage.com/en/messages/concepts/signed-webhooks and
https://developer.vonage.com/en/api/messages (inbound message, v1 flat format)

Request: POST JSON to the application's Inbound URL. Fields relied on: channel (`sms`),
message_uuid, from (digits), to, text. Authenticity: `Authorization: Bearer <JWT>` signed HS256
with the account signature secret (`signature_secret`); the `payload_hash` claim must equal the
SHA-256 hex of the raw body and `iat` be within `tolerance` seconds (default 300). Vonage may
rarely send an unsigned callback; it is refused and Vonage retries. Answer: 200.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from app.crypto import same
from app.domain.challenges import Verdict
from app.providers import jwt
from app.providers.base import (
    Defaults,
    Item,
    Part,
    Rejected,
    Reply,
    WebhookRequest,
    inbound,
    json_object,
    number_setting,
    required,
)


class VonageMessages:
    name: ClassVar[str] = "vonage-messages"
    auth_key: ClassVar[str] = "signature_secret"
    signed = True

    def __init__(self, secret: str, tolerance: int, defaults: Defaults) -> None:
        self.secret = secret
        self.tolerance = tolerance
        self.defaults = defaults

    @classmethod
    def from_settings(cls, section: Mapping[str, Any], defaults: Defaults) -> VonageMessages:
        tolerance = number_setting(section, cls.name, "tolerance", 300)
        return cls(required(section, cls.name, "signature_secret"), tolerance, defaults)

    def verify(self, request: WebhookRequest, now: datetime) -> None:
        scheme, _, token = (request.header("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Rejected("missing_signature")
        claims = jwt.verify(token, self.secret.encode(), ("HS256",))
        digest = hashlib.sha256(request.body).hexdigest()
        if not same(str(claims.get("payload_hash", "")).lower(), digest):
            raise Rejected("payload_hash_mismatch")
        issued = jwt.number_claim(claims, "iat")
        if issued is None or abs(now.timestamp() - issued) > self.tolerance:
            raise Rejected("stale_timestamp")

    def covers(self, request: WebhookRequest) -> Part:
        return Part.BODY

    def parse(self, request: WebhookRequest) -> Sequence[Item]:
        data = json_object(request)
        if data.get("channel", "sms") != "sms" or data.get("message_type", "text") != "text":
            return []
        fields = (data.get("message_uuid"), data.get("from"), data.get("to"), data.get("text"))
        return [inbound(self.name, self.defaults, fields, data, international=True)]

    def acknowledge(self, verdicts: list[Verdict]) -> Reply:
        return Reply(200, "", "text/plain")
