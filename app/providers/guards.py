"""Checks any provider can have, applied once in front of every adapter.

For providers that sign nothing the operator sets a secret token in the webhook path
(`/webhooks/<provider>/<token>`, key `path_token`) or HTTP Basic credentials (`basic_username`,
`basic_password`). Any provider may also restrict senders to `allow_ips` (CIDR list); the
address is the socket peer, or, when that peer is one of `trusted_proxies`, the right-most
X-Forwarded-For entry no trusted proxy added. A provider with no authenticity check at all is
refused at start-up unless `allow_unauthenticated = true`, and then warned about on each start.

A signed request may carry data only where its signature reaches: each adapter says which
parts of a request (`Part.QUERY`, `Part.BODY`) its signature covers, and a request with data
in another part (a GET with a body, a query string an HMAC of the body leaves open) is refused
as `unsigned_fields`, so no parser ever reads a field an attacker could change. A path token or
HTTP Basic credential vouches for the whole request.
"""

from __future__ import annotations

import base64
import ipaddress
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from app.crypto import same
from app.domain.challenges import Verdict
from app.providers.base import (
    Item,
    Part,
    Provider,
    Rejected,
    Reply,
    SettingsError,
    WebhookRequest,
    optional,
)

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(section: Mapping[str, Any], provider: str, key: str) -> list[Network]:
    """Return a CIDR list setting, or raise naming the key."""
    value = section.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SettingsError(f"providers.{provider}.{key}: must be a list of CIDR strings")
    try:
        return [ipaddress.ip_network(v, strict=False) for v in value]
    except ValueError as exc:
        raise SettingsError(f"providers.{provider}.{key}: {exc}") from None


class Guarded:
    """An adapter behind the generic checks; the app only ever calls this wrapper."""

    def __init__(self, adapter: Provider, section: Mapping[str, Any]) -> None:
        name = adapter.name
        self.adapter = adapter
        self.token = optional(section, name, "path_token")
        self.user = optional(section, name, "basic_username")
        self.password = optional(section, name, "basic_password")
        if bool(self.user) != bool(self.password):
            raise SettingsError(
                f"providers.{name}.basic_password: set both basic_username and basic_password"
            )
        if self.token and len(self.token) < 16:
            raise SettingsError(f"providers.{name}.path_token: use at least 16 random characters")
        self.allowed = networks(section, name, "allow_ips")
        self.proxies = networks(section, name, "trusted_proxies")
        self.open = section.get("allow_unauthenticated", False) is True
        if not self.authenticated and not self.open:
            own = getattr(adapter, "auth_key", "")
            raise SettingsError(
                f"providers.{name}: no authenticity check is configured; set "
                + (f"providers.{name}.{own} (the provider's signature), or " if own else "")
                + f"providers.{name}.path_token (and use /webhooks/{name}/<token>), or "
                f"providers.{name}.basic_username and basic_password; or accept forged "
                f"requests with providers.{name}.allow_unauthenticated = true"
            )
        if not self.authenticated:
            log.warning(
                "INSECURE: provider %s accepts unauthenticated webhooks "
                "(allow_unauthenticated = true); anyone can post forged SMS to it",
                name,
            )

    @property
    def name(self) -> str:
        return self.adapter.name

    @property
    def signed(self) -> bool:
        return self.adapter.signed

    @property
    def guessable(self) -> bool:
        """True when a shared secret the client presents (path token, Basic) vouches for it.

        Such a secret can be guessed online, so wrong ones are counted per address; a
        provider signature cannot be guessed that way and is never throttled.
        """
        return bool(self.token) or bool(self.user)

    @property
    def authenticated(self) -> bool:
        return self.adapter.signed or bool(self.token) or bool(self.user)

    def handshake(self, request: WebhookRequest) -> Reply | None:
        """Answer a provider's subscription check, if the adapter has one and this is it.

        The generic checks run first, so a path token or address list guards it too.
        """
        answer = getattr(self.adapter, "handshake", None)
        if answer is None:
            return None
        self._check_generic(request)
        reply: Reply | None = answer(request)
        return reply

    def verify(self, request: WebhookRequest, now: datetime) -> None:
        """Run the generic checks, then the adapter's own."""
        self._check_generic(request)
        self.adapter.verify(request, now)
        if self.adapter.signed and request.parts() & ~self.covers(request):
            raise Rejected("unsigned_fields")

    def _check_generic(self, request: WebhookRequest) -> None:
        if self.allowed:
            self._check_address(request)
        if self.token and not same(request.path_token or "", self.token):
            raise Rejected("bad_path_token")
        if not self.token and request.path_token is not None:
            raise Rejected("unexpected_path_token")
        if self.user:
            self._check_basic(request.header("authorization") or "")

    def covers(self, request: WebhookRequest) -> Part:
        return self.adapter.covers(request) if self.adapter.signed else Part.ALL

    def parse(self, request: WebhookRequest) -> Sequence[Item]:
        return self.adapter.parse(request)

    def acknowledge(self, verdicts: list[Verdict]) -> Reply:
        return self.adapter.acknowledge(verdicts)

    def _check_basic(self, header: str) -> None:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            raise Rejected("missing_credentials", credentials=True)
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise Rejected("bad_credentials", credentials=True) from None
        # Both compared, always, so timing says nothing about which one differed.
        ok_user = same(user, self.user)
        ok_password = same(password, self.password)
        if not (ok_user and ok_password):
            raise Rejected("bad_credentials", credentials=True)

    def _check_address(self, request: WebhookRequest) -> None:
        address = client_address(request, self.proxies)
        if address is None or not any(address in net for net in self.allowed):
            raise Rejected("address_not_allowed")


def client_address(
    request: WebhookRequest, proxies: list[Network]
) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Return the caller's address, trusting X-Forwarded-For only as far as trusted proxies."""
    chain = [request.remote_addr]
    forwarded = request.header("x-forwarded-for") or ""
    chain = [a.strip() for a in forwarded.split(",") if a.strip()] + chain
    for raw in reversed(chain):
        try:
            address = ipaddress.ip_address(raw)
        except ValueError:
            return None
        if not any(address in net for net in proxies):
            return address
    return None
