"""SMSGateway24: send through your own Android phone via smsgateway24.com.

Request (https://smsgateway24.com/en/docs/apidocumentation, "Send single SMS using
TOKEN"): POST https://smsgateway24.com/getdata/addsms, form fields `token`, `sendto`,
`body`, `device_id`, optional `sim`, and `urgent=1` (documented for OTP). The answer is
JSON `{"error": 0|1, "message", "sms_id"}`; error 1 is a refused request (not retried).

Receipts (https://smsgateway24.com/en/docs/webhook, "Delivery status webhook", set per
device): JSON `{"sms_id", "status_id", "status_message", "sendto", ...}` with status_id
6 sent, 7 delivered, 8 not delivered, 9 to 12 and 100/101 not sent. SMSGateway24 signs
nothing: the webhook URL carries this sender's `receipt_token`
(`/receipts/<name>/<token>`), checked in constant time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from app.providers.base import WebhookRequest
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

API = "https://smsgateway24.com"
STATUSES: dict[int, DeliveryStatus] = {6: "sent", 7: "delivered", 8: "failed", 9: "failed"}
STATUSES |= {code: "failed" for code in (10, 11, 12, 100, 101)}


class SmsGateway24Sender:
    kind = "smsgateway24"
    channel = "sms"

    def __init__(self, section: Mapping[str, Any]) -> None:
        self.common = c = common(section)
        self.name, self.countries, self.serves = c.name, c.countries, c.serves
        self.token = setting(section, c.name, "token")
        self.device_id = setting(section, c.name, "device_id")
        self.sim = setting(section, c.name, "sim", "")
        setting(section, c.name, "receipt_token")  # receipts are unsigned: the token is required
        self.base_url = setting(section, c.name, "base_url", API).rstrip("/")
        self.allow_private = bool(section.get("allow_private", False))

    def build(self, message: Outgoing) -> HttpCall:
        form = {
            "token": self.token,
            "sendto": message.to,
            "body": message.text,
            "device_id": self.device_id,
            "urgent": "1",
        }
        if self.sim:
            form["sim"] = self.sim
        return HttpCall("POST", f"{self.base_url}/getdata/addsms", form=form)

    def classify(self, status: int, body: bytes) -> Accepted:
        failure = http_failure(status)
        if failure is not None:
            raise failure
        data = json_answer(body)
        if not isinstance(data, dict):
            raise SendFailed("unreadable_answer", True)
        if data.get("error") != 0:
            raise SendFailed("smsgateway24_refused", False)
        sms_id = data.get("sms_id")
        if isinstance(sms_id, bool) or not isinstance(sms_id, int | str) or sms_id == "":
            raise SendFailed("unreadable_answer", True)
        return Accepted(str(sms_id))

    def verify_receipt(self, request: WebhookRequest, now: datetime) -> None:
        self.common.check_token(request)

    def parse_receipts(self, request: WebhookRequest) -> Sequence[Receipt]:
        data = json_answer(request.body)
        if not isinstance(data, dict):
            return []
        sms_id, code = data.get("sms_id"), data.get("status_id")
        if isinstance(code, str) and code.isdigit():
            code = int(code)
        status = STATUSES.get(code) if isinstance(code, int) else None
        if status is None or isinstance(sms_id, bool) or not isinstance(sms_id, int | str):
            return []
        detail = data.get("status_message")
        return [Receipt(str(sms_id), status, detail if isinstance(detail, str) else "")]
