"""SMSGateway24 per-device "webhook for incoming SMS".

Docs: https://smsgateway24.com/en/docs/webhook
Request: JSON POST with address (sender, possibly national), body, sms_id, device_id; the
receiving number is not sent, so `number` names it.

No signature: authenticated by the generic guards (path token, HTTP Basic, IP allow-list).
"""

from __future__ import annotations

from typing import ClassVar

from app.providers.mapped import Mapped


class SmsGateway24(Mapped):
    name: ClassVar[str] = "smsgateway24"
    FIELDS: ClassVar[dict[str, str]] = {"id": "sms_id", "sender": "address", "text": "body"}
