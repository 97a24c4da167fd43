"""Sinch SMS REST API incoming SMS callback.

Docs: https://developers.sinch.com/docs/sms/api-reference/sms/tag/Webhooks/

Request: POST JSON, one message. Fields relied on: type (`mo_text`; `mo_binary` and
`mo_media` are acknowledged and ignored), id, from and to (digits), body. Authenticity: with
`signing_secret`, the HMAC scheme of Sinch's SDKs: `x-sinch-webhook-signature` is the base64
HMAC-SHA256 of raw body + "." + `x-sinch-webhook-signature-nonce` + "." +
`x-sinch-webhook-signature-timestamp`, the timestamp within `tolerance` (300) seconds. Callback
authentication provisioned by Sinch as HTTP Basic is checked by the generic guard instead.
Answer: 200 (other 4xx are not retried by Sinch; 5xx and 429 are).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from app.crypto import same
from app.domain.challenges import Verdict
from app.providers.base import (
    Defaults,
    Item,
    Part,
    Rejected,
    Reply,
    WebhookRequest,
    check_fresh,
    inbound,
    json_object,
    number_setting,
    optional,
)


def signature(secret: str, body: bytes, nonce: str, timestamp: str) -> str:
    """Return the Sinch webhook signature of a body."""
    payload = body + b"." + nonce.encode() + b"." + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), payload, hashlib.sha256).digest()).decode()


class Sinch:
    name: ClassVar[str] = "sinch"
    auth_key: ClassVar[str] = "signing_secret"

    def __init__(self, secret: str, tolerance: int, defaults: Defaults) -> None:
        self.secret = secret
        self.tolerance = tolerance
        self.defaults = defaults
        self.signed = bool(secret)

    @classmethod
    def from_settings(cls, section: Mapping[str, Any], defaults: Defaults) -> Sinch:
        return cls(
            optional(section, cls.name, "signing_secret"),
            number_setting(section, cls.name, "tolerance", 300),
            defaults,
        )

    def verify(self, request: WebhookRequest, now: datetime) -> None:
        if not self.secret:
            return
        given = request.header("x-sinch-webhook-signature")
        nonce = request.header("x-sinch-webhook-signature-nonce")
        stamp = request.header("x-sinch-webhook-signature-timestamp")
        if not given or not nonce or not stamp:
            raise Rejected("missing_signature")
        if not same(signature(self.secret, request.body, nonce, stamp), given.strip()):
            raise Rejected("bad_signature")
        check_fresh(stamp, now, self.tolerance)

    def covers(self, request: WebhookRequest) -> Part:
        return Part.BODY

    def parse(self, request: WebhookRequest) -> Sequence[Item]:
        data = json_object(request)
        if data.get("type", "mo_text") != "mo_text":
            return []
        fields = (data.get("id"), data.get("from"), data.get("to"), data.get("body"))
        return [inbound(self.name, self.defaults, fields, data, international=True)]

    def acknowledge(self, verdicts: list[Verdict]) -> Reply:
        return Reply(200, "", "text/plain")
