"""The contract every provider adapter keeps: verify the raw request, parse it, answer.

The webhook route hands an adapter a framework-free `WebhookRequest`. `verify` raises
`Rejected` unless the request provably comes from the provider; `parse` turns it into
`InboundMessage`s (raising `Malformed` for a request it cannot read); `acknowledge` says what
the provider expects back once the messages are stored.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from app.domain import phone
from app.domain.challenges import InboundMessage, Verdict
from app.domain.parts import MessagePart
from app.outbound import OutboundHTTP

Item = InboundMessage | MessagePart


class Rejected(Exception):
    """The request is not provably from the provider; `reason` is a stable word.

    `credentials=True` marks a missing or wrong HTTP Basic credential: the answer is then 401
    with a Basic challenge, for clients that send credentials only when challenged.
    """

    def __init__(self, reason: str, credentials: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.credentials = credentials


class Malformed(Exception):
    """The request is authentic but cannot be read as an inbound SMS."""


class TryLater(Exception):
    """A check could not be made now (a certificate fetch failed): answer 5xx, so it retries."""


class SettingsError(Exception):
    """An adapter's settings section lacks or misstates a key; the message names it."""


class Part(enum.Flag):
    """The parts of a request that can carry message fields."""

    NONE = 0
    QUERY = enum.auto()  # the URL's query string
    BODY = enum.auto()  # the raw body
    ALL = QUERY | BODY


@dataclass(frozen=True)
class WebhookRequest:
    """An HTTP request as received, with the URL the provider was told to call."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes
    query: list[tuple[str, str]] = field(default_factory=list)
    remote_addr: str = ""
    path_token: str | None = None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()

    def form(self) -> list[tuple[str, str]]:
        """The urlencoded body's pairs, in order (empty for other content types)."""
        if self.content_type != "application/x-www-form-urlencoded":
            return []
        try:
            return parse_qsl(self.body.decode(), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            raise Malformed("form body is not UTF-8") from None

    def params(self) -> dict[str, str]:
        """Query and form fields by name, the form winning (last value of a repeated name)."""
        return dict(self.query) | dict(self.form())

    @property
    def is_form(self) -> bool:
        return self.content_type == "application/x-www-form-urlencoded"

    @property
    def looks_json(self) -> bool:
        """True when the body is JSON by its first byte (a signed fact, unlike the header)."""
        return self.body.lstrip()[:1] in (b"{", b"[")

    def parts(self) -> Part:
        """Return the parts that carry data: a query string, a body."""
        query = Part.QUERY if self.query or urlsplit(self.url).query else Part.NONE
        return query | (Part.BODY if self.body else Part.NONE)


@dataclass(frozen=True)
class Reply:
    """What the webhook answers the provider."""

    status: int = 200
    body: str = ""
    content_type: str = "text/plain"


class Nonces(Protocol):
    """A durable memory of nonces, shared by every process of the app."""

    def first_use(self, key: str, window: int, now: datetime) -> bool:
        """Remember `key` for `window` seconds; False when it was already seen in that time."""


class NoNonces:
    """No nonce memory: every nonce check is refused until the app wires a durable one."""

    def first_use(self, key: str, window: int, now: datetime) -> bool:
        raise TryLater("no nonce memory is configured")


@dataclass(frozen=True)
class Defaults:
    """Settings outside an adapter's own section that adapters may need."""

    public_url: str
    default_region: str | None = None
    numbers: Mapping[str, str] = field(default_factory=dict)
    http: OutboundHTTP = field(default_factory=OutboundHTTP)
    nonces: Nonces = field(default_factory=NoNonces)


class Provider(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def signed(self) -> bool:
        """True when the adapter's own authenticity check (a signature) is configured;
        False leaves it to the generic guards (path token, HTTP Basic) in guards.py."""

    def verify(self, request: WebhookRequest, now: datetime) -> None: ...

    def covers(self, request: WebhookRequest) -> Part:
        """Return the parts of this request its signature covers (asked after `verify`).

        The guard refuses a signed request carrying data in any other part: a parser never
        reads bytes the signature leaves open to change."""

    def parse(self, request: WebhookRequest) -> Sequence[Item]: ...

    def acknowledge(self, verdicts: list[Verdict]) -> Reply: ...


def required(section: Mapping[str, Any], provider: str, key: str) -> str:
    """Return a non-empty string setting of a provider, or raise naming it."""
    value = section.get(key)
    if not isinstance(value, str) or not value:
        raise SettingsError(f"providers.{provider}.{key}: set it (a non-empty string)")
    return value


def sender_e164(raw: str, default_region: str | None, international: bool = False) -> str | None:
    """Return an inbound sender in E.164, or None when it is no phone number (alphanumeric)."""
    try:
        return phone.parse_sender(raw, default_region, international)
    except phone.InvalidPhone:
        return None


def recipient_e164(raw: str, default_region: str | None, international: bool = False) -> str:
    """Return the receiving number in E.164, or the raw value when it cannot be read."""
    return sender_e164(raw, default_region, international) or raw


def optional(section: Mapping[str, Any], provider: str, key: str, default: str = "") -> str:
    """Return an optional string setting of a provider, or raise naming it when not a string."""
    value = section.get(key, default)
    if not isinstance(value, str):
        raise SettingsError(f"providers.{provider}.{key}: must be a string")
    return value


def flag_setting(section: Mapping[str, Any], provider: str, key: str) -> bool:
    """Return a boolean setting of a provider (false by default), or raise naming it."""
    value = section.get(key, False)
    if not isinstance(value, bool):
        raise SettingsError(f"providers.{provider}.{key}: must be true or false")
    return value


def number_setting(section: Mapping[str, Any], provider: str, key: str, default: int) -> int:
    """Return a non-negative integer setting of a provider, or raise naming it."""
    value = section.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise SettingsError(f"providers.{provider}.{key}: must be a non-negative integer")
    return value


def json_body(request: WebhookRequest) -> Any:
    """Return the body decoded as JSON, or raise Malformed."""
    return json_text(request.body, "body")


def json_text(data: str | bytes, what: str) -> Any:
    """Return JSON text decoded, or raise Malformed naming `what` (too deep counts as bad)."""
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Malformed(f"{what} is not valid JSON") from None


def json_object(request: WebhookRequest) -> dict[str, Any]:
    data = json_body(request)
    if not isinstance(data, dict):
        raise Malformed("JSON body must be an object")
    return data


def check_fresh(stamp: str | None, now: datetime, tolerance: int) -> None:
    """Reject a missing, unreadable or out-of-window unix timestamp (seconds)."""
    if not stamp:
        raise Rejected("missing_timestamp")
    try:
        seconds = float(stamp.strip())
    except ValueError:
        raise Rejected("bad_timestamp") from None
    if seconds != seconds or abs(now.timestamp() - seconds) > tolerance:
        raise Rejected("stale_timestamp")


def dig(data: Any, path: str) -> Any:
    """Return the value at a dotted path ("a.b.0.c"), or None when any step is missing."""
    node = data
    for step in path.split(".") if path else []:
        if isinstance(node, dict):
            node = node.get(step)
        elif isinstance(node, list) and step.isdigit() and int(step) < len(node):
            node = node[int(step)]
        else:
            return None
    return node


def text_of(value: Any) -> str | None:
    """Return a scalar JSON value as text (numbers as written), or None."""
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        return None
    return str(value)


def refuse_nul(raw: Mapping[str, Any]) -> None:
    """Raise Malformed when a field holds a NUL character, which PostgreSQL cannot store."""
    if _holds_nul(raw):
        raise Malformed("fields must not contain NUL characters")


def _holds_nul(value: Any) -> bool:
    """Tell whether a JSON-like value has a NUL in any string, key or other value's text."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(item) for item in value)
    if value is None or isinstance(value, bool | int | float):
        return False
    return "\x00" in str(value)


def inbound(
    provider: str,
    defaults: Defaults,
    fields: tuple[Any, Any, Any, Any],
    raw: dict[str, Any],
    international: bool = False,
    channel: str = "sms",
) -> InboundMessage:
    """Build the common message from (id, sender, to, text), or raise Malformed naming gaps."""
    names = ("id", "sender", "recipient", "text")
    values = [text_of(v) for v in fields]
    missing = [
        n for n, v in zip(names, values, strict=True) if v is None or (n != "text" and not v)
    ]
    if missing:
        raise Malformed(f"missing fields: {', '.join(missing)}")
    message_id, sender, to, text = (v or "" for v in values)
    refuse_nul({"fields": [message_id, sender, to, text], "raw": raw})
    region = defaults.default_region
    return InboundMessage(
        provider=provider,
        message_id=message_id[:200],
        sender=sender,
        to=recipient_e164(to, region, international),
        text=text,
        sender_e164=sender_e164(sender, region, international),
        raw=raw,
        channel=channel,
    )
