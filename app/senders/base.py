"""The contract every outbound sender keeps: build the request, classify the answer, read
its delivery receipts.

A sender is the mirror of an inbound adapter (app/providers/base.py): `build` turns one
message into an `HttpCall` (no I/O), `classify` reads the provider's answer into `Accepted`
or raises `SendFailed` saying whether another try could succeed, and `verify_receipt` /
`parse_receipts` check and read the delivery receipts the provider posts back, on the raw
request, exactly like an inbound webhook. The HTTP itself goes through app/outbound.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from app.crypto import same
from app.providers.base import Rejected, SettingsError, WebhookRequest

Channel = Literal["sms", "email"]
# What a receipt says became of a message: the send's status follows it.
DeliveryStatus = Literal["sent", "delivered", "failed"]


@dataclass(frozen=True)
class Outgoing:
    """One message to send: to an E.164 number (SMS) or an address (email)."""

    to: str
    text: str
    reference: str  # our id of the send, echoed back by providers that allow it
    receipt_url: str  # where this sender's receipts are to be posted ("" when unused)
    subject: str = ""


@dataclass(frozen=True)
class HttpCall:
    """The exact HTTP request a sender makes (built without I/O, so tests compare it)."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] | None = None
    json: Any = None
    auth: tuple[str, str] | None = None


@dataclass(frozen=True)
class Accepted:
    """The provider took the message; `provider_id` identifies it in later receipts."""

    provider_id: str


class SendFailed(Exception):
    """The provider did not take the message; `retryable` tells whether trying again (later,
    or through another sender) could succeed, `reason` is a short stable word."""

    def __init__(self, reason: str, retryable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


@dataclass(frozen=True)
class Receipt:
    """A delivery receipt: which message (provider id) and what became of it."""

    provider_id: str
    status: DeliveryStatus
    detail: str = ""


class Sender(Protocol):
    """A configured way to send codes."""

    name: str
    kind: str
    channel: Channel
    countries: frozenset[str]

    def serves(self, country: str) -> bool:
        """Tell whether this sender sends to a country (ISO code; "" for email)."""

    def verify_receipt(self, request: WebhookRequest, now: datetime) -> None:
        """Raise Rejected unless the receipt provably comes from the provider."""

    def parse_receipts(self, request: WebhookRequest) -> Sequence[Receipt]:
        """Read the receipts a verified request carries (empty when it is of no interest)."""


class HttpSender(Sender, Protocol):
    """A sender that sends through one HTTP request per message."""

    allow_private: bool

    def build(self, message: Outgoing) -> HttpCall: ...

    def classify(self, status: int, body: bytes) -> Accepted: ...


def http_failure(status: int) -> SendFailed | None:
    """Return the failure an HTTP status alone decides: 429 and 5xx retryable, other
    4xx not (a request the provider refuses will be refused again); None for 2xx."""
    if 200 <= status < 300:
        return None
    if status == 429 or status >= 500:
        return SendFailed(f"http_{status}", True)
    return SendFailed(f"http_{status}", False)


@dataclass(frozen=True)
class Common:
    """What every `[[senders]]` entry shares: name, countries, receipt token."""

    name: str
    countries: frozenset[str]
    receipt_token: str

    def serves(self, country: str) -> bool:
        return not self.countries or country in self.countries

    def check_token(self, request: WebhookRequest) -> None:
        """Check the secret in the receipt URL (for providers that sign nothing)."""
        if not self.receipt_token:
            raise Rejected("receipt_token_missing")
        if request.path_token is None or not same(request.path_token, self.receipt_token):
            raise Rejected("bad_token")


def common(section: Mapping[str, Any]) -> Common:
    """Read the keys every sender has: `name`, `countries`, `receipt_token`."""
    name = section.get("name") or section.get("kind")
    if not isinstance(name, str) or not name:
        raise SettingsError("senders: each entry needs a kind (and a name if kinds repeat)")
    countries = section.get("countries", [])
    if not isinstance(countries, list) or not all(isinstance(c, str) for c in countries):
        raise SettingsError(f"senders.{name}.countries: a list of ISO country codes")
    return Common(
        name, frozenset(c.upper() for c in countries), setting(section, name, "receipt_token", "")
    )


def setting(section: Mapping[str, Any], name: str, key: str, default: str | None = None) -> str:
    """Return a string setting of a sender; raise naming it when missing (no default)."""
    value = section.get(key, default)
    if not isinstance(value, str) or (default is None and not value):
        raise SettingsError(f"senders.{name}.{key}: set it (a non-empty string)")
    return value


def json_answer(body: bytes) -> Any:
    """Parse a provider's JSON answer; None when it is not JSON."""
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
