"""SMS Gateway for Android (android-sms-gateway): send through the phone, cloud or local.

Request (OpenAPI of android-sms-gateway, "Integration API", POST /messages; docs-web
"Getting started"): POST `<base_url>/messages` with HTTP Basic (the app's username and
password), JSON `{"phoneNumbers": ["+..."], "textMessage": {"text": ...},
"withDeliveryReport": true}`. Cloud mode's base URL is https://api.sms-gate.app/3rdparty/v1;
local server mode's is http://<device-ip>:8080 (a private address: set `allow_private`).
The answer (202) is the message state `{"id", "state", "recipients": [...]}`.

Receipts: the webhooks `sms:sent`, `sms:delivered` and `sms:failed` (docs-web
features/webhooks.md) carry `payload.messageId` (the id above); they are signed like
`sms:received`: X-Signature = hex HMAC-SHA256(signing key, raw body + X-Timestamp), checked
with the same helper as app/providers/android_sms_gateway.py, within 5 minutes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from app.crypto import same
from app.providers.android_sms_gateway import signature
from app.providers.base import Rejected, WebhookRequest, check_fresh
from app.senders.base import (
    Accepted,
    DeliveryStatus,
    HttpCall,
    Outgoing,
    Receipt,
    SendFailed,
    common,
    http_failure,
    json_answer,
    setting,
)

CLOUD = "https://api.sms-gate.app/3rdparty/v1"
EVENTS: dict[str, DeliveryStatus] = {
    "sms:sent": "sent",
    "sms:delivered": "delivered",
    "sms:failed": "failed",
}


class AndroidSmsGatewaySender:
    kind = "android-sms-gateway"
    channel = "sms"

    def __init__(self, section: Mapping[str, Any]) -> None:
        c = common(section)
        self.name, self.countries, self.serves = c.name, c.countries, c.serves
        self.username = setting(section, c.name, "username")
        self.password = setting(section, c.name, "password")
        self.signing_key = setting(section, c.name, "signing_key")
        self.base_url = setting(section, c.name, "base_url", CLOUD).rstrip("/")
        self.allow_private = bool(section.get("allow_private", False))

    def build(self, message: Outgoing) -> HttpCall:
        body = {
            "phoneNumbers": [message.to],
            "textMessage": {"text": message.text},
            "withDeliveryReport": True,
        }
        return HttpCall(
            "POST", f"{self.base_url}/messages", json=body, auth=(self.username, self.password)
        )

    def classify(self, status: int, body: bytes) -> Accepted:
        failure = http_failure(status)
        if failure is not None:
            raise failure
        data = json_answer(body)
        message_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(message_id, str) or not message_id:
            raise SendFailed("unreadable_answer", True)
        if data.get("state") == "Failed":
            raise SendFailed("android_failed", False)
        return Accepted(message_id)

    def verify_receipt(self, request: WebhookRequest, now: datetime) -> None:
        given = request.header("X-Signature")
        stamp = request.header("X-Timestamp")
        if not given or not stamp:
            raise Rejected("missing_signature")
        if not same(signature(self.signing_key, request.body, stamp), given.strip().lower()):
            raise Rejected("bad_signature")
        check_fresh(stamp, now, 300)

    def parse_receipts(self, request: WebhookRequest) -> Sequence[Receipt]:
        data = json_answer(request.body)
        if not isinstance(data, dict):
            return []
        status = EVENTS.get(str(data.get("event", "")))
        payload = data.get("payload")
        message_id = payload.get("messageId") if isinstance(payload, dict) else None
        if status is None or not isinstance(message_id, str) or not message_id:
            return []
        reason = payload.get("reason") if isinstance(payload, dict) else None
        return [Receipt(message_id, status, reason if isinstance(reason, str) else "")]
