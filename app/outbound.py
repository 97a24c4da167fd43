"""The one seam for outbound HTTP: every call to a third party goes through here.

Bounded timeouts always; tests mock this seam with requests-mock and reach no network.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util.connection import create_connection

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


def check_destination(url: str, allow_private: bool, resolver: Resolver = resolve) -> list[str]:
    """Resolve a URL's host once and return its addresses, refusing any that is not public.

    Private, loopback, link-local, shared, reserved, multicast and unspecified addresses are
    refused unless `allow_private`. Connect only to the addresses returned (`pinned_post`):
    resolving the name again would let a DNS answer that changes in between (rebinding)
    point the request somewhere that was never checked.
    Raises ForbiddenDestination, or OSError when the name does not resolve.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = resolver(host, port)
    if not addresses:
        raise OSError(f"{host} has no address")
    if not allow_private:
        for address in addresses:
            if not public(address):
                raise ForbiddenDestination(f"{host} resolves to a non-public address")
    return addresses


def public(address: str) -> bool:
    """Tell whether an IP address is globally routable unicast."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class Deadline:
    """A total time limit for one exchange: when it passes, every socket it opened is shut.

    Per-operation timeouts bound each wait, not their sum: a receiver that sends one byte
    just before each read timeout would hold the exchange for ever. Shutting the socket from
    a timer ends a blocked read, connect or TLS handshake in any thread (or greenlet).
    """

    def __init__(self, seconds: float, now: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._now = now
        self._ends = now() + seconds
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self.expire)
        self._timer.daemon = True
        self.expired = False

    def __enter__(self) -> Deadline:
        self._timer.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._timer.cancel()
        self._close()

    def remaining(self) -> float:
        """Return the seconds left (never below zero)."""
        return max(0.0, self._ends - self._now())

    def track(self, sock: socket.socket) -> None:
        """Shut `sock`'s connection when the deadline passes (at once if it already has).

        A duplicate of the socket is kept: TLS wraps the socket into a new object and
        detaches the original, while shutting any descriptor of a connection ends it.
        """
        copy = sock.dup()
        with self._lock:
            self._sockets.append(copy)
            if not self.expired:
                return
        _shut(copy)

    def expire(self) -> None:
        """End the exchange now: shut every socket it opened."""
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)

    def _close(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            sock.close()


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


class PinnedHTTPConnection(HTTPConnection):
    """An HTTP connection to checked addresses, never to a new lookup of its host name.

    The host name stays the connection's `host`, so the Host header, TLS SNI and certificate
    verification all use the name; only the TCP connect goes to the pinned address.
    """

    addresses: tuple[str, ...] = ()
    deadline: Deadline | None = None

    def _new_conn(self) -> socket.socket:
        failure: OSError = OSError("no checked address")
        for address in self.addresses:
            try:
                sock = create_connection(
                    (address, self.port),
                    self._connect_time(),
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except OSError as exc:  # refused, unreachable or timed out: try the next one
                failure = exc
                continue
            if self.deadline is not None:
                self.deadline.track(sock)
            return sock
        if isinstance(failure, TimeoutError):
            raise ConnectTimeoutError(self, f"Connection to {self.host} timed out") from failure
        raise NewConnectionError(self, f"Failed to establish a new connection: {failure}")

    def _connect_time(self) -> float | None:
        """Return the connect timeout, cut to what is left of the deadline."""
        given = self.timeout if isinstance(self.timeout, int | float) else None
        if self.deadline is None:
            return given
        left = max(0.001, self.deadline.remaining())
        return left if given is None else min(given, left)


class PinnedHTTPSConnection(PinnedHTTPConnection, HTTPSConnection):
    """An HTTPS connection to a pinned address, verified against the URL's host name."""


class PinnedAdapter(HTTPAdapter):
    """A transport that connects only to `addresses`, within an optional total deadline."""

    def __init__(self, addresses: list[str], deadline: Deadline | None = None) -> None:
        pinned = {"addresses": tuple(addresses), "deadline": deadline}
        http = type("Conn", (PinnedHTTPConnection,), pinned)
        https = type("Conn", (PinnedHTTPSConnection,), pinned)
        self._pools = {
            "http": type("Pool", (HTTPConnectionPool,), {"ConnectionCls": http}),
            "https": type("Pool", (HTTPSConnectionPool,), {"ConnectionCls": https}),
        }
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pools


def pinned_post(
    url: str, addresses: list[str], deadline: Deadline | None = None, **kwargs: Any
) -> requests.Response:
    """POST to `url` connecting only to `addresses` (from check_destination).

    Only the answer's status and headers are read: its body never is, however large, and
    the connection is closed on return. Environment proxies are ignored (a proxy would
    resolve the name itself, outside the check); redirects are not followed.
    """
    with requests.Session() as session:
        session.trust_env = False
        session.headers["User-Agent"] = USER_AGENT
        adapter = PinnedAdapter(addresses, deadline)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        kwargs.setdefault("timeout", DEFAULT_TIMEOUT)
        response = session.post(url, allow_redirects=False, stream=True, **kwargs)
        response.close()
        return response
