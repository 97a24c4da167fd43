"""The development SMS simulator: a stand-in provider needing no account.

Request: GET query, form POST or JSON POST with `from`, `to`, `text` and `id`.
Authenticity: header `X-Simulator-Signature`, the hex HMAC-SHA256 of the raw body (of the
query string for GET) under `[providers.simulator] secret`. `reverse-otp simulate-sms` and the
phone page sign this way.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

from app.crypto import same
from app.domain.challenges import InboundMessage, Verdict
from app.providers.base import (
    Defaults,
    Malformed,
    Part,
    Rejected,
    Reply,
    WebhookRequest,
    inbound,
    json_object,
    required,
)

HEADER = "X-Simulator-Signature"
# The fields of a simulated SMS, all strings.
FIELDS = ("id", "from", "to", "text")


def sign(secret: str, payload: bytes) -> str:
    """Return the signature the simulator webhook expects for a body (or query string)."""
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


class Simulator:
    name: ClassVar[str] = "simulator"
    auth_key: ClassVar[str] = "secret"
    signed = True

    def __init__(self, secret: str, defaults: Defaults) -> None:
        self.secret = secret
        self.defaults = defaults

    @classmethod
    def from_settings(cls, section: Mapping[str, Any], defaults: Defaults) -> Simulator:
        return cls(required(section, cls.name, "secret"), defaults)

    def verify(self, request: WebhookRequest, now: datetime) -> None:
        given = request.header(HEADER)
        if not given:
            raise Rejected("missing_signature")
        signed = urlsplit(request.url).query.encode() if request.method == "GET" else request.body
        if not same(sign(self.secret, signed), given.strip().lower()):
            raise Rejected("bad_signature")

    def covers(self, request: WebhookRequest) -> Part:
        return Part.QUERY if request.method == "GET" else Part.BODY

    def parse(self, request: WebhookRequest) -> list[InboundMessage]:
        fields = self._fields(request)
        wrong = [k for k in FIELDS if not isinstance(fields.get(k), str)]
        if wrong:
            raise Malformed(f"missing or non-string fields: {', '.join(wrong)}")
        parts = (fields["id"], fields["from"], fields["to"], fields["text"])
        return [inbound(self.name, self.defaults, parts, {k: fields[k] for k in FIELDS})]

    def acknowledge(self, verdicts: list[Verdict]) -> Reply:
        body = json.dumps({"outcomes": [v.outcome.value for v in verdicts]})
        return Reply(200, body, "application/json")

    @staticmethod
    def _fields(request: WebhookRequest) -> dict[str, Any]:
        if request.content_type == "application/json" or request.looks_json:
            return json_object(request)
        return request.params()
