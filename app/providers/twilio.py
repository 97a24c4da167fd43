"""Twilio Programmable Messaging incoming-message webhook.

Docs: https://www.twilio.com/docs/messaging/guides/webhook-request and
https://www.twilio.com/docs/usage/webhooks/webhooks-security

Request: form POST, or GET with the fields in the query (both as set on the number or the
Messaging Service). Fields relied on: From, To, Body, MessageSid; AccountSid and
MessagingServiceSid are checked when `account_sid` / `messaging_service_sid` are set. Numbers
in a Messaging Service share its webhook: list each one under [[numbers]].
Authenticity: `X-Twilio-Signature` = base64 HMAC-SHA1 under the auth token of the public URL
(scheme, host, port, path, query) followed, for form POSTs, by every parameter name and value
sorted by name. Only the parts signed are read: a GET's body is refused. Twilio signs no
timestamp, so a replay is caught by MessageSid idempotency.
Answer: empty TwiML, so Twilio sends no reply SMS.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

from app.domain.challenges import InboundMessage, Verdict
from app.providers.base import (
    Defaults,
    Item,
    Malformed,
    Part,
    Rejected,
    Reply,
    WebhookRequest,
    optional,
    recipient_e164,
    required,
    sender_e164,
)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def signature(auth_token: str, url: str, params: list[tuple[str, str]]) -> str:
    """Return Twilio's signature of a URL and its POST parameters."""
    payload = url + "".join(k + v for k, v in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def url_variants(url: str) -> list[str]:
    """Return the URL as given, without and with its scheme's default port."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    bare = urlunsplit(parts._replace(netloc=_netloc(parts.username, parts.password, host, None)))
    ported = urlunsplit(
        parts._replace(netloc=_netloc(parts.username, parts.password, host, parts.port or default))
    )
    return list(dict.fromkeys([url, bare, ported]))


def _netloc(user: str | None, password: str | None, host: str, port: int | None) -> str:
    auth = f"{user}:{password}@" if user and password else (f"{user}@" if user else "")
    return f"{auth}{host}:{port}" if port else f"{auth}{host}"


_PARAM_NAME = re.compile(r"[A-Z][A-Za-z0-9]*")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
# Fields every incoming-message webhook carries; sorted, no other name falls between them.
_ALWAYS_SENT = ("AccountSid", "Body", "From", "MessageSid", "To")


def unambiguous(params: list[tuple[str, str]]) -> bool:
    """Tell whether signed POST parameters can only be read one way.

    Twilio signs names and values run together without separators, so "Body=A" and a
    parameter named "BodyA" with an empty value sign alike, and a value can swallow the
    parameters sorted after it. A genuine webhook has only CamelCase names, every field in
    _ALWAYS_SENT and an E.164 `To`; any split that moves a boundary breaks one of those.
    """
    names = {name for name, _ in params}
    if not all(_PARAM_NAME.fullmatch(name) for name in names):
        return False
    if not names.issuperset(_ALWAYS_SENT):
        return False
    return all(_E164.fullmatch(value) for name, value in params if name == "To")


class Twilio:
    name: ClassVar[str] = "twilio"
    auth_key: ClassVar[str] = "auth_token"
    signed = True

    def __init__(
        self,
        auth_token: str,
        account_sid: str | None,
        defaults: Defaults,
        service_sid: str | None = None,
    ) -> None:
        self.auth_token = auth_token
        self.account_sid = account_sid
        self.service_sid = service_sid
        self.defaults = defaults

    @classmethod
    def from_settings(cls, section: Mapping[str, Any], defaults: Defaults) -> Twilio:
        sid = optional(section, cls.name, "account_sid")
        service = optional(section, cls.name, "messaging_service_sid")
        token = required(section, cls.name, "auth_token")
        return cls(token, sid or None, defaults, service or None)

    def verify(self, request: WebhookRequest, now: datetime) -> None:
        given = request.header("X-Twilio-Signature")
        if not given:
            raise Rejected("missing_signature")
        params = request.form() if request.method == "POST" else []
        expected = [signature(self.auth_token, u, params) for u in url_variants(request.url)]
        if not any(hmac.compare_digest(e.encode(), given.encode()) for e in expected):
            raise Rejected("bad_signature")
        if self.account_sid:
            sid = request.params().get("AccountSid", "")
            if not hmac.compare_digest(sid.encode(), self.account_sid.encode()):
                raise Rejected("wrong_account")
        if self.service_sid:
            sid = request.params().get("MessagingServiceSid", "")
            if not hmac.compare_digest(sid.encode(), self.service_sid.encode()):
                raise Rejected("wrong_messaging_service")
        if params and not unambiguous(params):
            raise Rejected("ambiguous_parameters")

    def covers(self, request: WebhookRequest) -> Part:
        """The URL with its query, and a POST's form fields (no other body is signed)."""
        form = request.method == "POST" and request.is_form
        return Part.QUERY | (Part.BODY if form else Part.NONE)

    def parse(self, request: WebhookRequest) -> Sequence[Item]:
        fields = request.params()
        missing = [k for k in ("From", "To", "MessageSid") if not fields.get(k)]
        if missing:
            raise Malformed(f"missing fields: {', '.join(missing)}")
        region = self.defaults.default_region
        return [
            InboundMessage(
                provider=self.name,
                message_id=fields["MessageSid"],
                sender=fields["From"],
                to=recipient_e164(fields["To"], region),
                text=fields.get("Body", ""),
                sender_e164=sender_e164(fields["From"], region),
                raw=fields,
            )
        ]

    def acknowledge(self, verdicts: list[Verdict]) -> Reply:
        return Reply(200, EMPTY_TWIML, "text/xml")
