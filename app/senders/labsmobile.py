"""LabsMobile JSON API: send with /json/send, read ACK confirmations.

Request (LabsMobile JSON API, https://apidocs.labsmobile.com/ "Send SMS"): POST
https://api.labsmobile.com/json/send, HTTP Basic with the account username and API token,
JSON `{"message", "tpoa", "recipient": [{"msisdn"}], "ackurl", "acklevel"}` where msisdn is the
number with its country code and no "+". The answer is JSON `{"code", "message", "subid"}`;
code "0" is success. Other codes name a refused request (bad parameters, credentials,
credit): none of them is fixed by sending the same request again, so only HTTP 429/5xx and
network failures are retried.

Receipts (same document, "Callbacks"; LabsMobile support article 77000494752): the ackurl
is called with HTTP GET and the fields `acklevel` (gateway, operator, handset), `msisdn`,
`status` (ok, ko), `desc`, `subid` and `timestamp`. LabsMobile signs nothing, so the ackurl
carries this sender's `receipt_token` (`/receipts/<name>/<token>`), checked in constant time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from app.providers.base import WebhookRequest
from app.senders.base import (
    Accepted,
    HttpCall,
    Outgoing,
    Receipt,
    SendFailed,
    common,
    http_failure,
    json_answer,
    setting,
)

API = "https://api.labsmobile.com"


class LabsMobileSender:
    kind = "labsmobile"
    channel = "sms"

    def __init__(self, section: Mapping[str, Any]) -> None:
        self.common = c = common(section)
        self.name, self.countries, self.serves = c.name, c.countries, c.serves
        self.username = setting(section, c.name, "username")
        self.api_token = setting(section, c.name, "api_token")
        self.tpoa = setting(section, c.name, "tpoa", "")
        setting(section, c.name, "receipt_token")  # receipts are unsigned: the token is required
        self.base_url = setting(section, c.name, "base_url", API).rstrip("/")
        self.allow_private = bool(section.get("allow_private", False))

    def build(self, message: Outgoing) -> HttpCall:
        body: dict[str, Any] = {
            "message": message.text,
            "recipient": [{"msisdn": message.to.lstrip("+")}],
        }
        if self.tpoa:
            body["tpoa"] = self.tpoa
        if message.receipt_url:
            body |= {"ackurl": message.receipt_url, "acklevel": "handset"}
        return HttpCall(
            "POST", f"{self.base_url}/json/send", json=body, auth=(self.username, self.api_token)
        )

    def classify(self, status: int, body: bytes) -> Accepted:
        failure = http_failure(status)
        if failure is not None:
            raise failure
        data = json_answer(body)
        if not isinstance(data, dict):
            raise SendFailed("unreadable_answer", True)
        code = str(data.get("code", ""))
        if code != "0":
            raise SendFailed(f"labsmobile_{code}", False)
        subid = data.get("subid")
        if not isinstance(subid, str) or not subid:
            raise SendFailed("unreadable_answer", True)
        return Accepted(subid)

    def verify_receipt(self, request: WebhookRequest, now: datetime) -> None:
        self.common.check_token(request)

    def parse_receipts(self, request: WebhookRequest) -> Sequence[Receipt]:
        p = request.params()
        subid, status, level = p.get("subid", ""), p.get("status", ""), p.get("acklevel", "")
        if not subid or status not in ("ok", "ko"):
            return []
        if status == "ko":
            return [Receipt(subid, "failed", p.get("desc", ""))]
        return [Receipt(subid, "delivered" if level == "handset" else "sent", p.get("desc", ""))]
