"""Telnyx Messaging v2 inbound message webhook.

Docs: https://developers.telnyx.com/docs/messaging/messages/receiving-webhooks and
https://developers.telnyx.com/api-reference/callbacks/inbound-message

Request: POST JSON, one event. Fields relied on: data.event_type (`message.received`; other
events are acknowledged and ignored), data.payload.id, data.payload.from.phone_number,
data.payload.to[0].phone_number, data.payload.text. Authenticity: `telnyx-signature-ed25519`
(base64) is the Ed25519 signature of `telnyx-timestamp` + "|" + raw body, checked with the
account's public key (`public_key`, base64, Mission Control > Keys); the timestamp must be within
`tolerance` seconds (300, as Telnyx's SDKs). Answer: 200 within 2 s.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.domain.challenges import Verdict
from app.providers.base import (
    Defaults,
    Item,
    Part,
    Rejected,
    Reply,
    SettingsError,
    WebhookRequest,
    check_fresh,
    dig,
    inbound,
    json_object,
    number_setting,
    required,
)


class Telnyx:
    name: ClassVar[str] = "telnyx"
    auth_key: ClassVar[str] = "public_key"
    signed = True

    def __init__(self, key: Ed25519PublicKey, tolerance: int, defaults: Defaults) -> None:
        self.key = key
        self.tolerance = tolerance
        self.defaults = defaults

    @classmethod
    def from_settings(cls, section: Mapping[str, Any], defaults: Defaults) -> Telnyx:
        raw = required(section, cls.name, "public_key")
        try:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(raw, validate=True))
        except (ValueError, binascii.Error):
            raise SettingsError(
                f"providers.{cls.name}.public_key: not a base64 Ed25519 public key"
            ) from None
        return cls(key, number_setting(section, cls.name, "tolerance", 300), defaults)

    def verify(self, request: WebhookRequest, now: datetime) -> None:
        given = request.header("telnyx-signature-ed25519")
        stamp = request.header("telnyx-timestamp")
        if not given or not stamp:
            raise Rejected("missing_signature")
        try:
            signature = base64.b64decode(given, validate=True)
            self.key.verify(signature, stamp.encode() + b"|" + request.body)
        except (ValueError, binascii.Error, InvalidSignature):
            raise Rejected("bad_signature") from None
        check_fresh(stamp, now, self.tolerance)

    def covers(self, request: WebhookRequest) -> Part:
        return Part.BODY

    def parse(self, request: WebhookRequest) -> Sequence[Item]:
        data = json_object(request)
        if dig(data, "data.event_type") != "message.received":
            return []
        p = dig(data, "data.payload") or {}
        fields = (
            dig(p, "id"),
            dig(p, "from.phone_number"),
            dig(p, "to.0.phone_number"),
            dig(p, "text"),
        )
        return [inbound(self.name, self.defaults, fields, data)]

    def acknowledge(self, verdicts: list[Verdict]) -> Reply:
        return Reply(200, "", "text/plain")
