"""Plivo inbound SMS (message_url of a Plivo application).

Docs: https://www.plivo.com/docs/messaging/api/message/handling-incoming ,
https://www.plivo.com/docs/messaging/concepts/signature-validation and
https://www.plivo.com/docs/voice/xml/request/validation (V3)

Request: form POST (or GET). Fields relied on: From, To (digits), Text, MessageUUID; Type other
than `sms` is acknowledged and ignored. Authenticity under `auth_token`: X-Plivo-Signature-V3
(or -Ma-V3): base64 HMAC-SHA256 of the URL without query, its sorted query and the sorted
parameters (see `v3_string`), "." and X-Plivo-Signature-V3-Nonce; several comma-separated
signatures may be sent, one must match. A GET is signed over its URL only, so a GET with a body
is refused. V3 runs names and values together, so a value could swallow the parameters after
it: MessageUUID must be a UUID and From and To numbers (or a sender id of at most 15
characters), else the request is refused. V2 (X-Plivo-Signature-V2 or -Ma-V2: base64
HMAC-SHA256 of the URL without query followed by X-Plivo-Signature-V2-Nonce) covers neither
the body nor a time: it is refused unless `allow_v2 = true`, and then each nonce is accepted
once: it is remembered in the database for `v2_nonce_seconds` (30 days by default) and a
request reusing it is refused, so a captured V2 request cannot carry another message. Plivo
signs no timestamp.
Answer: 200, empty Response XML (no auto-reply).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from app.crypto import same
from app.domain.challenges import Verdict
from app.providers.base import (
    Defaults,
    Item,
    Part,
    Rejected,
    Reply,
    WebhookRequest,
    flag_setting,
    inbound,
    number_setting,
    required,
)

EMPTY_XML = '<?xml version="1.0" encoding="utf-8"?><Response></Response>'
V3_HEADERS = ("X-Plivo-Signature-V3", "X-Plivo-Signature-Ma-V3")
# V3 runs POST names and values together (and GET values unescaped), so a value could swallow
# the parameters after it and sign alike; the fields read must have their documented shape.
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_NUMBER = re.compile(r"\+?[0-9A-Za-z]{1,15}")


def plausible(fields: Mapping[str, str]) -> bool:
    """Tell whether MessageUUID is a UUID and From and To are numbers (or a short sender id)."""
    if not _UUID.fullmatch(fields.get("MessageUUID", "")):
        return False
    return all(_NUMBER.fullmatch(fields.get(name, "")) for name in ("From", "To"))


V2_HEADERS = ("X-Plivo-Signature-V2", "X-Plivo-Signature-Ma-V2")


def _mac(token: str, payload: str) -> str:
    digest = hmac.new(token.encode(), payload.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def v2_signature(token: str, url: str, nonce: str) -> str:
    """Return the V2 signature of a URL (query dropped) and nonce."""
    parts = urlsplit(url)
    return _mac(token, urlunsplit(parts._replace(query="", fragment="")) + nonce)


def _sorted_query(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def v3_string(url: str, method: str, params: list[tuple[str, str]]) -> str:
    """Return the string V3 signs (before the nonce) for a URL, method and body params."""
    parts = urlsplit(url)
    base = urlunsplit(parts._replace(query="", fragment=""))
    query = parse_qsl(parts.query, keep_blank_values=True)
    if method == "GET":
        merged = _sorted_query(query + params)
        return f"{base}?{merged}" if merged else base
    if not params:
        own = _sorted_query(query)
        return f"{base}?{own}" if own else base
    own = _sorted_query(query)
    body = "".join(k + v for k, v in sorted(params))
    return f"{base}?{own}." + body if own else f"{base}?" + body


def v3_signature(
    token: str, url: str, method: str, params: list[tuple[str, str]], nonce: str
) -> str:
    return _mac(token, v3_string(url, method, params) + "." + nonce)


def _first(request: WebhookRequest, names: tuple[str, ...]) -> str | None:
    return next((v for v in map(request.header, names) if v), None)


class Plivo:
    name: ClassVar[str] = "plivo"
    auth_key: ClassVar[str] = "auth_token"
    signed = True

    def __init__(
        self, token: str, defaults: Defaults, allow_v2: bool = False, v2_window: int = 0
    ) -> None:
        self.token = token
        self.defaults = defaults
        self.allow_v2 = allow_v2
        self.v2_window = v2_window

    @classmethod
    def from_settings(cls, section: Mapping[str, Any], defaults: Defaults) -> Plivo:
        return cls(
            required(section, cls.name, "auth_token"),
            defaults,
            flag_setting(section, cls.name, "allow_v2"),
            number_setting(section, cls.name, "v2_nonce_seconds", 30 * 86400),
        )

    def verify(self, request: WebhookRequest, now: datetime) -> None:
        v3 = _first(request, V3_HEADERS)
        if v3:
            nonce = request.header("X-Plivo-Signature-V3-Nonce") or ""
            params = request.form() if request.method == "POST" else []
            expected = v3_signature(self.token, request.url, request.method, params, nonce)
            if not nonce or not any(same(expected, s.strip()) for s in v3.split(",")):
                raise Rejected("bad_signature")
            if request.params().get("Type", "sms") == "sms" and not plausible(request.params()):
                raise Rejected("implausible_parameters")
            return
        v2 = _first(request, V2_HEADERS)
        nonce2 = request.header("X-Plivo-Signature-V2-Nonce")
        if not v2 or not nonce2:
            raise Rejected("missing_signature")
        if not self.allow_v2:
            raise Rejected("v2_signature_not_allowed")
        if not same(v2_signature(self.token, request.url, nonce2), v2.strip()):
            raise Rejected("bad_signature")
        if not self.defaults.nonces.first_use(f"plivo-v2:{nonce2}", self.v2_window, now):
            raise Rejected("replayed_nonce")

    def covers(self, request: WebhookRequest) -> Part:
        """V3: the URL with its query, and a POST's form fields. V2 binds no field, but its
        nonce is accepted once: the request is a one-time credential for all it carries."""
        if not _first(request, V3_HEADERS):
            return Part.ALL
        form = request.method == "POST" and request.is_form
        return Part.QUERY | (Part.BODY if form else Part.NONE)

    def parse(self, request: WebhookRequest) -> Sequence[Item]:
        p = request.params()
        if p.get("Type", "sms") != "sms":
            return []
        fields = (p.get("MessageUUID"), p.get("From"), p.get("To"), p.get("Text"))
        return [inbound(self.name, self.defaults, fields, p, international=True)]

    def acknowledge(self, verdicts: list[Verdict]) -> Reply:
        return Reply(200, EMPTY_XML, "application/xml")
