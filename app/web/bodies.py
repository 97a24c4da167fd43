"""Request bodies arrive in time and at a minimum rate, or the request gets 408.

A client that drips its body a byte at a time holds a server connection for as long as it
likes, and a gevent worker has only `worker_connections` of them: enough drips starve every
other request, `/healthz` included. So each body has a time allowance that starts at
`body_grace` seconds and grows by one second per `body_min_rate` bytes received, never past
`body_timeout` seconds in all (the model of Apache's mod_reqtimeout). Every read is bounded
by what is left of it: under gevent (the server's workers) by a gevent timeout around the
whole read, which may span many socket reads; elsewhere by the client socket's timeout
where the server exposes the socket (`gunicorn.socket`), which bounds each socket read.
When the allowance runs out, the read side of the connection is shut (the rest of the body
is never waited for) and the answer is 408.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from werkzeug.exceptions import RequestTimeout

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


@dataclass(frozen=True)
class BodyRules:
    """How long a body may take: `grace` + received / `min_rate` seconds, at most `timeout`."""

    timeout: float
    grace: float
    min_rate: float  # bytes per second; 0: only `timeout` counts

    def allowance(self, received: int) -> float:
        """Return the seconds a body may have taken once `received` bytes have arrived."""
        if self.min_rate <= 0:
            return self.timeout
        return min(self.timeout, self.grace + received / self.min_rate)


class DeadlineInput:
    """A wsgi.input whose reads end when the body's time allowance does."""

    def __init__(
        self,
        stream: IO[bytes],
        rules: BodyRules,
        sock: socket.socket | None,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._rules = rules
        self._sock = sock
        self._now = now
        self.bound: Callable[[float], AbstractContextManager[object]] = self._socket_timeout
        self._start = now()
        self.received = 0

    def read(self, size: int = -1) -> bytes:
        return self._bounded(self._stream.read, size)

    def readline(self, size: int = -1) -> bytes:
        return self._bounded(self._stream.readline, size)

    def readlines(self, hint: int = -1) -> list[bytes]:
        lines = []
        while line := self.readline():
            lines.append(line)
            if 0 < hint <= sum(map(len, lines)):
                break
        return lines

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line

    def left(self) -> float:
        """Return the seconds left before the allowance runs out (negative once it has)."""
        return self._start + self._rules.allowance(self.received) - self._now()

    def _bounded(self, read: Callable[[int], bytes], size: int) -> bytes:
        left = self.left()
        if left <= 0:
            self._give_up()
        try:
            with self.bound(left):
                data = read(size)
        except TimeoutError:
            self._give_up()
        self.received += len(data)
        return data

    @contextlib.contextmanager
    def _socket_timeout(self, seconds: float) -> Iterator[None]:
        if self._sock is None:
            yield
            return
        previous = self._sock.gettimeout()
        self._sock.settimeout(seconds)
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                self._sock.settimeout(previous)

    def _give_up(self) -> Any:
        if self._sock is not None:
            with contextlib.suppress(OSError):  # the answer still goes out; no more is read
                self._sock.shutdown(socket.SHUT_RD)
        raise RequestTimeout("the request body did not arrive in time")


def gevent_patched() -> bool:
    """Tell whether gevent's patches are applied (the server's workers run so)."""
    from gevent import monkey

    return bool(monkey.is_module_patched("socket"))


def gevent_bound(seconds: float) -> AbstractContextManager[object]:
    """Return a gevent timeout raising TimeoutError in this greenlet after `seconds`."""
    from gevent import Timeout

    timeout: AbstractContextManager[object] = Timeout(seconds, TimeoutError)
    return timeout


class BodyDeadline:
    """WSGI middleware: give every request's body its time allowance.

    `under_gevent`: bound whole reads with gevent timeouts (only where gevent's patches
    are applied, so every socket read yields to the hub).
    """

    def __init__(self, app: WSGIApplication, rules: BodyRules, under_gevent: bool) -> None:
        self.app = app
        self.rules = rules
        self.under_gevent = under_gevent

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        sock = environ.get("gunicorn.socket")
        body = DeadlineInput(
            environ["wsgi.input"], self.rules, sock if isinstance(sock, socket.socket) else None
        )
        if self.under_gevent:
            body.bound = gevent_bound
        environ["wsgi.input"] = body
        return self.app(environ, start_response)
