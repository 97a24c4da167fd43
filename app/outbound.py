"""The one seam for outbound HTTP: every call to a third party goes through here.

Bounded timeouts always; tests mock this seam with requests-mock and reach no network.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests

USER_AGENT = "reverse-otp/0.1"
# (connect, read) seconds.
DEFAULT_TIMEOUT = (3.05, 10.0)


class OutboundHTTP:
    """A requests session with our user agent and timeouts."""

    def __init__(self, timeout: tuple[float, float] = DEFAULT_TIMEOUT) -> None:
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("allow_redirects", False)
        return self.session.get(url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("allow_redirects", False)
        return self.session.post(url, **kwargs)


class ForbiddenDestination(Exception):
    """A URL whose host resolves to an address we must not call (private, loopback...)."""


Resolver = Callable[[str, int], list[str]]


def resolve(host: str, port: int) -> list[str]:
    """Return every address a host name resolves to (raises OSError when it does not)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def check_destination(url: str, allow_private: bool, resolver: Resolver = resolve) -> None:
    """Refuse a URL when any address its host resolves to is not public.

    Private, loopback, link-local, shared, reserved, multicast and unspecified addresses are
    refused unless `allow_private`. Call it right before each request: DNS answers change.
    Raises ForbiddenDestination, or OSError when the name does not resolve.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = resolver(host, port)
    if not addresses:
        raise OSError(f"{host} has no address")
    if allow_private:
        return
    for address in addresses:
        if not public(address):
            raise ForbiddenDestination(f"{host} resolves to a non-public address")


def public(address: str) -> bool:
    """Tell whether an IP address is globally routable unicast."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast
