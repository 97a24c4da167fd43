"""Twilio Programmable Messaging: send with the Messages resource, read status callbacks.

Request (https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource):
POST https://api.twilio.com/2010-04-01/Accounts/{AccountSid}/Messages.json, HTTP Basic with
the account SID and auth token, form fields `To` (E.164), `From` or `MessagingServiceSid`,
`Body` and `StatusCallback`. A 201 answer is the Message resource (JSON) whose `sid` later
receipts name. Errors are JSON `{code, message, status}`; 429 and 5xx are worth a retry.

Receipts: Twilio POSTs the StatusCallback URL with form fields `MessageSid`, `MessageStatus`
(queued, sending, sent, delivered, undelivered, failed) and `ErrorCode`, signed in
X-Twilio-Signature exactly like incoming-message webhooks
(https://www.twilio.com/docs/usage/security#validating-requests): base64 HMAC-SHA1 with the
auth token over the URL followed by the sorted form names and values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from app.crypto import same
from app.providers.base import Rejected, WebhookRequest
from app.providers.twilio import signature, url_variants
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

API = "https://api.twilio.com/2010-04-01"
STATUSES: dict[str, DeliveryStatus] = {
    "sent": "sent",
    "delivered": "delivered",
    "undelivered": "failed",
    "failed": "failed",
}


class TwilioSender:
    kind = "twilio"
    channel = "sms"

    def __init__(self, section: Mapping[str, Any]) -> None:
        c = common(section)
        self.name, self.countries, self.serves = c.name, c.countries, c.serves
        self.account_sid = setting(section, c.name, "account_sid")
        self.auth_token = setting(section, c.name, "auth_token")
        self.sender = setting(section, c.name, "from", "")
        self.service_sid = setting(section, c.name, "messaging_service_sid", "")
        if not self.sender and not self.service_sid:
            setting(section, c.name, "from")  # raises, naming the key
        self.base_url = setting(section, c.name, "base_url", API).rstrip("/")
        self.allow_private = bool(section.get("allow_private", False))

    def build(self, message: Outgoing) -> HttpCall:
        form = {"To": message.to, "Body": message.text}
        if self.service_sid:
            form["MessagingServiceSid"] = self.service_sid
        else:
            form["From"] = self.sender
        if message.receipt_url:
            form["StatusCallback"] = message.receipt_url
        url = f"{self.base_url}/Accounts/{self.account_sid}/Messages.json"
        return HttpCall("POST", url, form=form, auth=(self.account_sid, self.auth_token))

    def classify(self, status: int, body: bytes) -> Accepted:
        data = json_answer(body)
        failure = http_failure(status)
        if failure is None:
            sid = data.get("sid") if isinstance(data, dict) else None
            if not isinstance(sid, str) or not sid:
                raise SendFailed("unreadable_answer", True)
            return Accepted(sid)
        # The HTTP status decides (429 and 5xx retry); the error code names the reason
        # (https://www.twilio.com/docs/api/errors, e.g. 21211 invalid To, 21610 opted out).
        code = data.get("code") if isinstance(data, dict) else None
        if isinstance(code, int):
            raise SendFailed(f"twilio_{code}", failure.retryable)
        raise failure

    def verify_receipt(self, request: WebhookRequest, now: datetime) -> None:
        given = request.header("X-Twilio-Signature")
        if not given:
            raise Rejected("missing_signature")
        params = request.form() if request.method == "POST" else []
        expected = [signature(self.auth_token, u, params) for u in url_variants(request.url)]
        if not any(same(e, given.strip()) for e in expected):
            raise Rejected("bad_signature")
        if not same(dict(params).get("AccountSid", ""), self.account_sid):
            raise Rejected("wrong_account")

    def parse_receipts(self, request: WebhookRequest) -> Sequence[Receipt]:
        fields = dict(request.form())
        status = STATUSES.get(fields.get("MessageStatus", ""))
        sid = fields.get("MessageSid", "")
        if status is None or not sid:
            return []
        return [Receipt(sid, status, fields.get("ErrorCode", ""))]
