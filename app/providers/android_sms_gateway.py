"""SMS Gateway for Android (android-sms-gateway, sms-gate.app) webhooks.

Docs: https://docs.sms-gate.app/features/webhooks/ (android-sms-gateway/docs-web)

Request: POST JSON envelope {deviceId, event, id, webhookId, payload}. `sms:received` carries
one message in `payload`, `sms:batch:received` several in `payload.messages[]` (each shaped as
an `sms:received` payload); other events are acknowledged and ignored. Fields relied on per
message: message (text), sender or phoneNumber (as the phone reports it: national numbers are
read in `phones.default_region`), recipient when sent, else `device_numbers[deviceId]` or
`number`. The message id is the envelope event id with the device id (and, in a batch, the
message's position): payload.messageId is derived from content and repeats. Authenticity:
`X-Signature` is the hex HMAC-SHA256 under the app's signing key (`signing_key`) of the raw body
followed by `X-Timestamp`, which must be within `tolerance` (300) seconds; `webhook_id`, when
set, must match. Answer: 200.
"""

from __future__ import annotations

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
    Malformed,
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
    required,
    text_of,
)


def signature(key: str, body: bytes, timestamp: str) -> str:
    """Return the gateway's signature of a body and timestamp."""
    return hmac.new(key.encode(), body + timestamp.encode(), hashlib.sha256).hexdigest()


class AndroidSmsGateway:
    name: ClassVar[str] = "android-sms-gateway"
    auth_key: ClassVar[str] = "signing_key"
    signed = True

    def __init__(self, section: Mapping[str, Any], defaults: Defaults) -> None:
        self.key = required(section, self.name, "signing_key")
        self.tolerance = number_setting(section, self.name, "tolerance", 300)
        self.webhook_id = optional(section, self.name, "webhook_id")
        self.number = optional(section, self.name, "number")
        devices = section.get("device_numbers", {})
        if not isinstance(devices, dict) or not all(isinstance(v, str) for v in devices.values()):
            raise SettingsError(f"providers.{self.name}.device_numbers: a table of strings")
        self.devices: Mapping[str, str] = devices
        self.defaults = defaults

    @classmethod
    def from_settings(cls, section: Mapping[str, Any], defaults: Defaults) -> AndroidSmsGateway:
        return cls(section, defaults)

    def verify(self, request: WebhookRequest, now: datetime) -> None:
        given = request.header("X-Signature")
        stamp = request.header("X-Timestamp")
        if not given or not stamp:
            raise Rejected("missing_signature")
        if not same(signature(self.key, request.body, stamp), given.strip().lower()):
            raise Rejected("bad_signature")
        check_fresh(stamp, now, self.tolerance)

    def covers(self, request: WebhookRequest) -> Part:
        return Part.BODY

    def parse(self, request: WebhookRequest) -> Sequence[Item]:
        data = json_object(request)
        if self.webhook_id and data.get("webhookId") != self.webhook_id:
            return []
        device, event = data.get("deviceId"), data.get("id")
        base = f"{device}/{event}" if text_of(device) and text_of(event) else None
        if data.get("event") == "sms:received":
            return [self._message(data, data.get("payload"), base)]
        if data.get("event") != "sms:batch:received":
            return []
        batch = dig(data, "payload.messages")
        if not isinstance(batch, list):
            raise Malformed("payload.messages is not a list")
        return [
            self._message(data, entry, base and f"{base}/{index}")
            for index, entry in enumerate(batch)
        ]

    def _message(self, data: dict[str, Any], payload: Any, message_id: str | None) -> Item:
        if not isinstance(payload, dict):
            raise Malformed("a message payload must be an object")
        to = payload.get("recipient") or self.devices.get(str(data.get("deviceId")), self.number)
        fields = (
            message_id,
            payload.get("sender") or payload.get("phoneNumber"),
            to or None,
            payload.get("message"),
        )
        return inbound(self.name, self.defaults, fields, data)

    def acknowledge(self, verdicts: list[Verdict]) -> Reply:
        return Reply(200, "", "text/plain")
