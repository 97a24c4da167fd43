"""The contract every provider adapter keeps: verify the raw request, parse it, answer.

The webhook route hands an adapter a framework-free `WebhookRequest`. `verify` raises
`Rejected` unless the request provably comes from the provider; `parse` turns it into
`InboundMessage`s (raising `Malformed` for a request it cannot read); `acknowledge` says what
the provider expects back once the messages are stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol
from urllib.parse import parse_qsl

from app.domain import phone
from app.domain.challenges import InboundMessage, Verdict


class Rejected(Exception):
    """The request is not provably from the provider; `reason` is a stable word."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Malformed(Exception):
    """The request is authentic but cannot be read as an inbound SMS."""


class SettingsError(Exception):
    """An adapter's settings section lacks or misstates a key; the message names it."""


@dataclass(frozen=True)
class WebhookRequest:
    """An HTTP request as received, with the URL the provider was told to call."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes
    query: list[tuple[str, str]] = field(default_factory=list)
    remote_addr: str = ""

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


@dataclass(frozen=True)
class Reply:
    """What the webhook answers the provider."""

    status: int = 200
    body: str = ""
    content_type: str = "text/plain"


@dataclass(frozen=True)
class Defaults:
    """Settings outside an adapter's own section that adapters may need."""

    public_url: str
    default_region: str | None = None
    numbers: Mapping[str, str] = field(default_factory=dict)


class Provider(Protocol):
    name: ClassVar[str]

    def verify(self, request: WebhookRequest, now: datetime) -> None: ...

    def parse(self, request: WebhookRequest) -> list[InboundMessage]: ...

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
