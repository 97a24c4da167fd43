"""Bird (bird.com) Channels API: incoming SMS through a webhook subscription.

Docs: https://docs.bird.com/api/channels-api/supported-channels/programmable-sms/receiving-messages
and https://docs.bird.com/api/notifications-api/api-reference/webhook-subscriptions/verifying-a-webhook-subscription

Request: POST JSON event. The envelope name is unconfirmed: the message is read from `payload`
when present, else from the top level. Fields relied on: id, sender.contact.identifierValue
(E.164), body.text.text, and the receiving number from receiver.contact.identifierValue when
sent, else from `channel_numbers` (channelId -> number) or `number`. Events whose direction is
not `incoming` are acknowledged and ignored. Authenticity (subscription created with a
signingKey, setting `signing_key`): `messagebird-signature` is the base64 HMAC-SHA256 of
`messagebird-request-timestamp` + "\\n" + the public URL + "\\n" + the raw SHA-256 of the body;
Bird documents no window, we accept `tolerance` seconds (300). Answer: 200.
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
    SettingsError,
    WebhookRequest,
    check_fresh,
    dig,
    inbound,
    json_object,
    number_setting,
    optional,
)


def signature(key: str, timestamp: str, url: str, body: bytes) -> str:
    """Return Bird's signature of a request."""
    payload = timestamp.encode() + b"\n" + url.encode() + b"\n" + hashlib.sha256(body).digest()
    return base64.b64encode(hmac.new(key.encode(), payload, hashlib.sha256).digest()).decode()


class Bird:
    name: ClassVar[str] = "bird"
    auth_key: ClassVar[str] = "signing_key"

    def __init__(
        self, key: str, numbers: Mapping[str, str], number: str, tolerance: int, defaults: Defaults
    ) -> None:
        self.key = key
        self.numbers = numbers
        self.number = number
        self.tolerance = tolerance
        self.defaults = defaults
        self.signed = bool(key)

    @classmethod
    def from_settings(cls, section: Mapping[str, Any], defaults: Defaults) -> Bird:
        numbers = section.get("channel_numbers", {})
        if not isinstance(numbers, dict) or not all(isinstance(v, str) for v in numbers.values()):
            raise SettingsError(f"providers.{cls.name}.channel_numbers: a table of strings")
        return cls(
            optional(section, cls.name, "signing_key"),
            numbers,
            optional(section, cls.name, "number"),
            number_setting(section, cls.name, "tolerance", 300),
            defaults,
        )

    def verify(self, request: WebhookRequest, now: datetime) -> None:
        if not self.key:
            return
        given = request.header("messagebird-signature")
        stamp = request.header("messagebird-request-timestamp")
        if not given or not stamp:
            raise Rejected("missing_signature")
        if not same(signature(self.key, stamp, request.url, request.body), given.strip()):
            raise Rejected("bad_signature")
        check_fresh(stamp, now, self.tolerance)

    def covers(self, request: WebhookRequest) -> Part:
        return Part.ALL  # the public URL (with its query) and the body's digest

    def parse(self, request: WebhookRequest) -> Sequence[Item]:
        data = json_object(request)
        payload = data.get("payload")
        message: dict[str, Any] = payload if isinstance(payload, dict) else data
        if message.get("direction", "incoming") != "incoming":
            return []
        to = dig(message, "receiver.contact.identifierValue") or self.numbers.get(
            str(message.get("channelId")), self.number
        )
        fields = (
            message.get("id"),
            dig(message, "sender.contact.identifierValue"),
            to,
            dig(message, "body.text.text"),
        )
        return [inbound(self.name, self.defaults, fields, data)]

    def acknowledge(self, verdicts: list[Verdict]) -> Reply:
        return Reply(200, "", "text/plain")
