"""Vonage (Nexmo) SMS API inbound messages.

Docs: https://developer.vonage.com/messaging/sms/guides/inbound-sms and
https://developer.vonage.com/en/getting-started/concepts/signing-messages

Request: GET query, form POST or JSON POST (dashboard setting), one part per request.
Fields relied on: msisdn (sender, digits), to, text, messageId, and for long messages concat-ref,
concat-part, concat-total (parts are stored and reassembled before matching); type `binary`
is acknowledged and ignored. Authenticity (with `signature_secret`): the `sig` parameter over
every other parameter sorted by name as `&k=v` (`&` and `=` in values read as `_`), with the
secret appended and MD5-hashed (`md5hash`, the default) or as key of an HMAC (`md5`, `sha1`,
`sha256`, `sha512`); the signed unix `timestamp` must be within `tolerance` seconds (Vonage
publishes no window; 300 by default). Since `&` and `=` sign as `_`, a parameter name holding
them, or an id or number holding them, is refused. Answer: 204.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from app.crypto import same
from app.domain.challenges import InboundMessage, Verdict
from app.domain.parts import MessagePart
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
    inbound,
    json_object,
    number_setting,
    optional,
    text_of,
)

METHODS = ("md5hash", "md5", "sha1", "sha256", "sha512")
IDENTITY = ("messageId", "msisdn", "to", "concat-ref", "concat-part", "concat-total")


def signature(secret: str, params: Mapping[str, str], method: str = "md5hash") -> str:
    """Return Vonage's `sig` of a parameter set (lowercase hex)."""
    payload = "".join(
        "&" + k + "=" + v.replace("&", "_").replace("=", "_")
        for k, v in sorted(params.items())
        if k != "sig"
    )
    if method == "md5hash":
        return hashlib.md5((payload + secret).encode()).hexdigest()  # noqa: S324 - Vonage's scheme
    return hmac.new(secret.encode(), payload.encode(), method).hexdigest()


def unambiguous(params: Mapping[str, str]) -> bool:
    """Tell whether signed parameters read one way only.

    The signature reads `&` and `=` in values as `_`, and not at all in names: a name holding
    them, or an id or number holding them, could stand for another parameter set signed alike.
    """
    if any("&" in k or "=" in k for k in params):
        return False
    return not any("&" in params.get(k, "") or "=" in params.get(k, "") for k in IDENTITY)


class Vonage:
    name: ClassVar[str] = "vonage"
    auth_key: ClassVar[str] = "signature_secret"

    def __init__(self, secret: str, method: str, tolerance: int, defaults: Defaults) -> None:
        self.secret = secret
        self.method = method
        self.tolerance = tolerance
        self.defaults = defaults
        self.signed = bool(secret)

    @classmethod
    def from_settings(cls, section: Mapping[str, Any], defaults: Defaults) -> Vonage:
        method = optional(section, cls.name, "signature_method", "md5hash")
        if method not in METHODS:
            raise SettingsError(f"providers.{cls.name}.signature_method: one of {METHODS}")
        tolerance = number_setting(section, cls.name, "tolerance", 300)
        return cls(optional(section, cls.name, "signature_secret"), method, tolerance, defaults)

    def verify(self, request: WebhookRequest, now: datetime) -> None:
        if not self.secret:
            return
        params = self._params(request)
        given = params.get("sig")
        if not given:
            raise Rejected("missing_signature")
        expected = signature(self.secret, params, self.method)
        if not same(expected, given.strip().lower()):
            raise Rejected("bad_signature")
        if not unambiguous(params):
            raise Rejected("implausible_parameters")
        check_fresh(params.get("timestamp"), now, self.tolerance)

    def covers(self, request: WebhookRequest) -> Part:
        """`sig` covers the parameters read: the JSON body, or the query and form fields."""
        if request.content_type == "application/json":
            return Part.BODY
        return Part.QUERY | (Part.BODY if request.is_form else Part.NONE)

    def parse(self, request: WebhookRequest) -> Sequence[Item]:
        p = self._params(request)
        if p.get("type") == "binary":
            return []
        fields = (p.get("messageId"), p.get("msisdn"), p.get("to"), p.get("text"))
        message = inbound(self.name, self.defaults, fields, dict(p), international=True)
        if "concat-ref" not in p:
            return [message]
        return [self._part(message, p)]

    def acknowledge(self, verdicts: list[Verdict]) -> Reply:
        return Reply(204, "", "text/plain")

    @staticmethod
    def _part(message: InboundMessage, p: Mapping[str, str]) -> MessagePart:
        try:
            index, total = int(p.get("concat-part", "")), int(p.get("concat-total", ""))
        except ValueError:
            raise Malformed("concat-part and concat-total must be integers") from None
        if not 1 <= index <= total <= 255:
            raise Malformed("concat-part must be within 1..concat-total (at most 255)")
        return MessagePart(message, p["concat-ref"], index, total)

    @staticmethod
    def _params(request: WebhookRequest) -> dict[str, str]:
        if request.content_type == "application/json":
            data = json_object(request)
            out = {k: text_of(v) for k, v in data.items()}
            return {k: v for k, v in out.items() if v is not None}
        return request.params()
