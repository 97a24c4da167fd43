"""Meta WhatsApp Cloud API inbound messages (webhooks of the WhatsApp Business Account).

Docs: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components and
https://developers.facebook.com/docs/graph-api/webhooks/getting-started

Handshake: when the callback URL is set, Meta calls GET with `hub.mode=subscribe`,
`hub.verify_token` (the string typed next to the URL, our `verify_token`) and `hub.challenge`;
the challenge is answered as plain text only when the token matches (compared in constant
time), anything else is 403. The handshake grants nothing: it only lets Meta save the URL.
Request: POST JSON `{"object": "whatsapp_business_account", "entry": [{"changes": [{"field":
"messages", "value": {...}}]}]}`; entries, changes and messages are batched, each text message
is handled. Fields relied on per change value: metadata.phone_number_id (our number through
`phone_numbers`, else metadata.display_phone_number, digits), messages[].from (digits, no
plus), messages[].id (the wamid, for idempotency), messages[].type (`text`; other types are
acknowledged and ignored), messages[].text.body. A value with only `statuses[]` (sent,
delivered, read) is acknowledged and ignored. Authenticity: `X-Hub-Signature-256` =
"sha256=" + hex HMAC-SHA256 of the raw body under the app secret (`app_secret`), compared in
constant time; nothing else of the request is signed, so a query string on a POST is refused.
Meta signs no timestamp: a replay is caught by wamid idempotency. Answer: 200 (Meta retries
other answers and may disable a failing subscription).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

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
    dig,
    inbound,
    json_object,
    number_setting,
    optional,
    recipient_e164,
    required,
)

HEADER = "X-Hub-Signature-256"
CHANNEL = "whatsapp"
# Meta's challenge is a number; anything beyond a short token is not Meta and is not echoed.
_CHALLENGE = re.compile(r"[A-Za-z0-9_.~-]{1,128}")


def signature(secret: str, body: bytes) -> str:
    """Return the X-Hub-Signature-256 value Meta sends with a body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _number_ids(section: Mapping[str, Any], provider: str) -> dict[str, str]:
    value = section.get("phone_numbers", {})
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise SettingsError(
            f"providers.{provider}.phone_numbers: a table of phone number id = E.164 number"
        )
    return {str(k): v for k, v in value.items()}


class WhatsApp:
    name: ClassVar[str] = "whatsapp"
    auth_key: ClassVar[str] = "app_secret"
    signed = True

    def __init__(
        self,
        secret: str,
        verify_token: str,
        numbers: Mapping[str, str],
        max_messages: int,
        defaults: Defaults,
    ) -> None:
        self.secret = secret
        self.verify_token = verify_token
        self.numbers = numbers
        self.max_messages = max_messages
        self.defaults = defaults

    @classmethod
    def from_settings(cls, section: Mapping[str, Any], defaults: Defaults) -> WhatsApp:
        return cls(
            required(section, cls.name, "app_secret"),
            optional(section, cls.name, "verify_token"),
            _number_ids(section, cls.name),
            number_setting(section, cls.name, "max_messages", 100),
            defaults,
        )

    def handshake(self, request: WebhookRequest) -> Reply | None:
        """Answer Meta's subscription check (GET): the challenge, or Rejected; None for a POST."""
        if request.method != "GET":
            return None
        query = dict(request.query)
        given = query.get("hub.verify_token", "")
        # Both compared, always, so the answer's timing tells nothing about the token.
        token_ok = same(given, self.verify_token) and bool(self.verify_token)
        if not token_ok or query.get("hub.mode") != "subscribe":
            raise Rejected("bad_verify_token")
        if request.body:
            raise Rejected("unsigned_fields")
        challenge = query.get("hub.challenge", "")
        if not _CHALLENGE.fullmatch(challenge):
            raise Malformed("hub.challenge: a short token of letters, digits, - _ . ~")
        return Reply(200, challenge, "text/plain")

    def verify(self, request: WebhookRequest, now: datetime) -> None:
        given = request.header(HEADER)
        if not given:
            raise Rejected("missing_signature")
        if request.method != "POST":
            raise Rejected("unsigned_fields")
        if not same(given.strip(), signature(self.secret, request.body)):
            raise Rejected("bad_signature")

    def covers(self, request: WebhookRequest) -> Part:
        return Part.BODY

    def parse(self, request: WebhookRequest) -> Sequence[Item]:
        if request.content_type != "application/json":
            raise Malformed("content type must be application/json")
        data = json_object(request)
        if data.get("object") != "whatsapp_business_account":
            return []  # another product's notification: nothing for us
        values = [v for change in _changes(data) if (v := _messages_value(change)) is not None]
        texts = [(v, m) for v in values for m in _listed(v, "messages") if _is_text(m)]
        if len(texts) > self.max_messages:
            raise Malformed(f"{len(texts)} messages in one request; at most {self.max_messages}")
        return [self._one(value, message) for value, message in texts]

    def _one(self, value: dict[str, Any], message: dict[str, Any]) -> Item:
        number_id = dig(value, "metadata.phone_number_id")
        to = self.numbers.get(str(number_id)) if number_id is not None else None
        if to is None:
            display = dig(value, "metadata.display_phone_number")
            to = recipient_e164(display, None, True) if isinstance(display, str) else None
        fields = (message.get("id"), message.get("from"), to, dig(message, "text.body"))
        raw = {"metadata": value.get("metadata"), "message": message}
        return inbound(self.name, self.defaults, fields, raw, True, channel=CHANNEL)

    def acknowledge(self, verdicts: list[Verdict]) -> Reply:
        return Reply(200, "", "text/plain")


def _listed(data: dict[str, Any], key: str) -> list[Any]:
    """Return a list field, or raise Malformed when it is present and no list."""
    value = data.get(key, [])
    if not isinstance(value, list):
        raise Malformed(f"{key} must be a list")
    return value


def _changes(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Return every change of every entry, or raise Malformed naming a bad shape."""
    found: list[dict[str, Any]] = []
    for entry in _listed(data, "entry"):
        if not isinstance(entry, dict):
            raise Malformed("entry[] items must be objects")
        changes = _listed(entry, "changes")
        if not all(isinstance(c, dict) for c in changes):
            raise Malformed("entry[].changes[] items must be objects")
        found += changes
    return found


def _messages_value(change: dict[str, Any]) -> dict[str, Any] | None:
    """Return the value of a `messages` change (None for other fields, such as templates)."""
    if change.get("field", "messages") != "messages":
        return None
    value = change.get("value")
    if not isinstance(value, dict):
        raise Malformed("entry[].changes[].value must be an object")
    return value


def _is_text(message: Any) -> bool:
    """True for a text message; other types (image, reaction, button...) are ignored."""
    if not isinstance(message, dict):
        raise Malformed("messages[] items must be objects")
    return message.get("type") == "text"
