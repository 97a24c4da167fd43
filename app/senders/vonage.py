"""Vonage SMS API: send with /sms/json, read delivery receipts.

Request (https://developer.vonage.com/en/api/sms#send-an-sms, OpenAPI "sms.yml"):
POST https://rest.nexmo.com/sms/json, form fields `api_key`, `api_secret`, `from`, `to`
(international digits, no "+"), `text`, `client-ref` (our reference) and `callback`
(receipt URL), `status-report-req=1`. HTTP 200 even on failure: each entry of `messages[]`
has `status` "0" on success and `message-id`, or an error status and `error-text`.
Status codes (https://developer.vonage.com/en/messaging/sms/guides/troubleshooting-sms):
1 throttled, 5 internal error and 10 too many binds are transient; the others (missing or
invalid parameters, credentials, barred numbers, quota, ...) are not.

Receipts (https://developer.vonage.com/en/messaging/sms/guides/delivery-receipts): GET or
POST with `messageId`, `msisdn`, `to`, `status` (delivered, expired, failed, rejected,
accepted, buffered, unknown), `err-code`, `message-timestamp`, and when signed webhooks
are on, `timestamp` and `sig` computed exactly like signed inbound messages (the same
helper as app/providers/vonage.py: sorted `&k=v`, md5hash or HMAC).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from app.crypto import same
from app.providers.base import Rejected, SettingsError, WebhookRequest, check_fresh
from app.providers.vonage import METHODS, signature, unambiguous
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

API = "https://rest.nexmo.com"
TRANSIENT = {"1", "5", "10"}
STATUSES: dict[str, DeliveryStatus] = {
    "delivered": "delivered",
    "accepted": "sent",
    "buffered": "sent",
    "expired": "failed",
    "failed": "failed",
    "rejected": "failed",
}


class VonageSender:
    kind = "vonage"
    channel = "sms"

    def __init__(self, section: Mapping[str, Any]) -> None:
        c = common(section)
        self.name, self.countries, self.serves = c.name, c.countries, c.serves
        self.api_key = setting(section, c.name, "api_key")
        self.api_secret = setting(section, c.name, "api_secret")
        self.sender = setting(section, c.name, "from")
        self.signature_secret = setting(section, c.name, "signature_secret")
        self.method = setting(section, c.name, "signature_method", "md5hash")
        if self.method not in METHODS:
            raise SettingsError(f"senders.{c.name}.signature_method: one of {METHODS}")
        self.base_url = setting(section, c.name, "base_url", API).rstrip("/")
        self.allow_private = bool(section.get("allow_private", False))

    def build(self, message: Outgoing) -> HttpCall:
        form = {
            "api_key": self.api_key,
            "api_secret": self.api_secret,
            "from": self.sender,
            "to": message.to.lstrip("+"),
            "text": message.text,
            "client-ref": message.reference,
        }
        if message.receipt_url:
            form |= {"callback": message.receipt_url, "status-report-req": "1"}
        return HttpCall("POST", f"{self.base_url}/sms/json", form=form)

    def classify(self, status: int, body: bytes) -> Accepted:
        failure = http_failure(status)
        if failure is not None:
            raise failure
        data = json_answer(body)
        entries = data.get("messages") if isinstance(data, dict) else None
        if not isinstance(entries, list) or not entries or not isinstance(entries[0], dict):
            raise SendFailed("unreadable_answer", True)
        first = entries[0]
        code = str(first.get("status", ""))
        if code != "0":
            raise SendFailed(f"vonage_{code}", code in TRANSIENT)
        message_id = first.get("message-id")
        if not isinstance(message_id, str) or not message_id:
            raise SendFailed("unreadable_answer", True)
        return Accepted(message_id)

    def verify_receipt(self, request: WebhookRequest, now: datetime) -> None:
        params = self._params(request)
        given = params.get("sig")
        if not given:
            raise Rejected("missing_signature")
        expected = signature(self.signature_secret, params, self.method)
        if not same(expected, given.strip().lower()):
            raise Rejected("bad_signature")
        if not unambiguous(params):
            raise Rejected("implausible_parameters")
        check_fresh(params.get("timestamp"), now, 300)

    def parse_receipts(self, request: WebhookRequest) -> Sequence[Receipt]:
        params = self._params(request)
        status = STATUSES.get(params.get("status", ""))
        message_id = params.get("messageId", "")
        if status is None or not message_id:
            return []
        return [Receipt(message_id, status, params.get("err-code", ""))]

    @staticmethod
    def _params(request: WebhookRequest) -> dict[str, str]:
        if request.content_type == "application/json":
            data = json_answer(request.body)
            if isinstance(data, dict):
                return {k: str(v) for k, v in data.items() if isinstance(v, str | int)}
            return {}
        return request.params()
