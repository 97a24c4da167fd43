"""Twilio Programmable Messaging incoming-message webhook.

Docs: https://www.twilio.com/docs/messaging/guides/webhook-request and
https://www.twilio.com/docs/usage/webhooks/webhooks-security

Request: form POST, or GET with the fields in the query (both as set on the number or the
Messaging Service). Fields relied on: From, To, Body, MessageSid; a WhatsApp message (Twilio's
WhatsApp senders) writes From and To as `whatsapp:+<number>` and is read on the whatsapp
channel; AccountSid and
MessagingServiceSid are checked when `account_sid` / `messaging_service_sid` are set. Numbers
in a Messaging Service share its webhook: list each one under [[numbers]].
Authenticity: `X-Twilio-Signature` = base64 HMAC-SHA1 under the auth token of the public URL
(scheme, host, port, path, query) followed, for form POSTs, by every parameter name and value
sorted by name. When a Webhook Rule signs with a SharedKey, Twilio announces it in
`X-Twilio-Webhooks-Signature-Settings: key=<shared key id>,algorithm=HMAC_SHA256` (or
HMAC_SHA1): the same string is then signed with that algorithm under the SharedKey secret
(`shared_key_secret`; `shared_key_id`, when set, must name the key). Only the parts signed are
read: a GET's body is refused. Parameter sets Twilio never sends are refused: ambiguous splits
(see `unambiguous`), and SIDs out of their documented format (`MessageSid` SM or MM + 32 hex,
`AccountSid` AC + 32 hex, `SmsSid`/`SmsMessageSid` equal to `MessageSid`), so a value cannot
swallow the parameters after it to make a new MessageSid under the same signature. Twilio
signs no timestamp, so a replay is caught by MessageSid idempotency.
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

from app.crypto import same
from app.domain.challenges import Verdict
from app.providers.base import (
    Defaults,
    Item,
    Malformed,
    Part,
    Rejected,
    Reply,
    SettingsError,
    WebhookRequest,
    inbound,
    optional,
)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
ALGORITHMS = {"HMAC_SHA1": hashlib.sha1, "HMAC_SHA256": hashlib.sha256}


def signature(
    key: str, url: str, params: list[tuple[str, str]], algorithm: str = "HMAC_SHA1"
) -> str:
    """Return Twilio's signature of a URL and its POST parameters."""
    payload = url + "".join(k + v for k, v in sorted(params))
    digest = hmac.new(key.encode(), payload.encode(), ALGORITHMS[algorithm]).digest()
    return base64.b64encode(digest).decode()


def signature_settings(header: str) -> dict[str, str]:
    """Return the `name=value` pairs of X-Twilio-Webhooks-Signature-Settings."""
    pairs = (part.partition("=") for part in header.split(","))
    return {name.strip(): value.strip() for name, sep, value in pairs if sep}


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
# Twilio's WhatsApp senders write numbers as "whatsapp:+<E.164>".
_E164 = re.compile(r"(whatsapp:)?\+[1-9][0-9]{6,14}")
WHATSAPP = "whatsapp:"
# Fields every incoming-message webhook carries; sorted, no other name falls between them.
_ALWAYS_SENT = ("AccountSid", "Body", "From", "MessageSid", "To")
# Documented SID formats (Twilio's API definition): two letters, then 32 hexadecimal digits.
_MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-fA-F]{32}")
_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")


def plausible(fields: Mapping[str, str]) -> bool:
    """Tell whether the fields read have the shape Twilio documents for its SIDs.

    A value that swallowed the parameters after it (a re-split that signs alike) no longer
    fits: a MessageSid is exactly SM or MM and 32 hex digits, its legacy copies repeat it.
    """
    sid = fields.get("MessageSid", "")
    if not _MESSAGE_SID.fullmatch(sid):
        return False
    if any(fields.get(copy, sid) != sid for copy in ("SmsSid", "SmsMessageSid")):
        return False
    account = fields.get("AccountSid")
    return account is None or bool(_ACCOUNT_SID.fullmatch(account))


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
        shared_key: str = "",
        shared_key_id: str = "",
    ) -> None:
        self.auth_token = auth_token
        self.account_sid = account_sid
        self.service_sid = service_sid
        self.shared_key = shared_key
        self.shared_key_id = shared_key_id
        self.defaults = defaults

    @classmethod
    def from_settings(cls, section: Mapping[str, Any], defaults: Defaults) -> Twilio:
        sid = optional(section, cls.name, "account_sid")
        service = optional(section, cls.name, "messaging_service_sid")
        token = optional(section, cls.name, "auth_token")
        shared = optional(section, cls.name, "shared_key_secret")
        if not token and not shared:
            raise SettingsError(
                f"providers.{cls.name}.auth_token: set it (a non-empty string), "
                f"or providers.{cls.name}.shared_key_secret for SharedKey signing"
            )
        key_id = optional(section, cls.name, "shared_key_id")
        return cls(token, sid or None, defaults, service or None, shared, key_id)

    def verify(self, request: WebhookRequest, now: datetime) -> None:
        given = request.header("X-Twilio-Signature")
        if not given:
            raise Rejected("missing_signature")
        key, algorithm = self._signing(request.header(SETTINGS_HEADER))
        params = request.form() if request.method == "POST" else []
        expected = [signature(key, u, params, algorithm) for u in url_variants(request.url)]
        if not any(same(e, given.strip()) for e in expected):
            raise Rejected("bad_signature")
        fields = request.params()
        if self.account_sid and not same(fields.get("AccountSid", ""), self.account_sid):
            raise Rejected("wrong_account")
        if self.service_sid and not same(fields.get("MessagingServiceSid", ""), self.service_sid):
            raise Rejected("wrong_messaging_service")
        if params and not unambiguous(params):
            raise Rejected("ambiguous_parameters")
        if not plausible(fields):
            raise Rejected("implausible_parameters")

    def covers(self, request: WebhookRequest) -> Part:
        """The URL with its query, and a POST's form fields (no other body is signed)."""
        form = request.method == "POST" and request.is_form
        return Part.QUERY | (Part.BODY if form else Part.NONE)

    def _signing(self, announced: str | None) -> tuple[str, str]:
        """Return the key and algorithm a request claims: the auth token and HMAC-SHA1, or
        the SharedKey secret and the algorithm X-Twilio-Webhooks-Signature-Settings names."""
        if announced is None:
            if not self.auth_token:
                raise Rejected("missing_signature_settings")
            return self.auth_token, "HMAC_SHA1"
        settings = signature_settings(announced)
        algorithm = settings.get("algorithm", "HMAC_SHA1").upper()
        if algorithm not in ALGORITHMS or not self.shared_key:
            raise Rejected("unsupported_signature_settings")
        if self.shared_key_id and not same(settings.get("key", ""), self.shared_key_id):
            raise Rejected("unknown_signing_key")
        return self.shared_key, algorithm

    def parse(self, request: WebhookRequest) -> Sequence[Item]:
        fields = request.params()
        sender, to = fields.get("From") or "", fields.get("To") or ""
        # A WhatsApp message names both ends "whatsapp:+<number>"; an SMS never does.
        channel = "whatsapp" if sender.startswith(WHATSAPP) else "sms"
        if channel == "whatsapp" and not to.startswith(WHATSAPP):
            raise Malformed("a WhatsApp sender (whatsapp:+...) needs a WhatsApp To")
        parts = (
            fields.get("MessageSid"),
            sender.removeprefix(WHATSAPP),
            to.removeprefix(WHATSAPP),
            fields.get("Body", ""),
        )
        return [inbound(self.name, self.defaults, parts, dict(fields), channel=channel)]

    def acknowledge(self, verdicts: list[Verdict]) -> Reply:
        return Reply(200, EMPTY_TWIML, "text/xml")
