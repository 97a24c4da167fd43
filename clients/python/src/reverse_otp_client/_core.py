"""What the sync and async clients share: the operations, errors, retry delays and SSE parsing."""

from __future__ import annotations

import email.utils
import json
import random
import time
from dataclasses import dataclass
from typing import Any, Optional
from urllib.parse import quote

from reverse_otp_client.errors import ProtocolError, ReverseOtpError, for_status

# Each client operation: (method, path in the server's OpenAPI document). The clients build
# every URL from this table, and tests/test_openapi_contract.py checks it against the live
# /openapi.json, so a renamed or new route fails the client's tests.
OPERATIONS: dict[str, tuple[str, str]] = {
    "create": ("POST", "/api/v1/challenges"),
    "get": ("GET", "/api/v1/challenges/{challenge_id}"),
    "cancel": ("POST", "/api/v1/challenges/{challenge_id}/cancel"),
    "check": ("POST", "/api/v1/challenges/{challenge_id}/check"),
    "send": ("POST", "/api/v1/challenges/{challenge_id}/send"),
    "status": ("GET", "/api/v1/status/{token}"),
    "wait": ("GET", "/api/v1/status/{token}"),
    "events": ("GET", "/api/v1/status/{token}/events"),
    "jwks": ("GET", "/.well-known/jwks.json"),
}

# Longest single long poll; the server's `[streams] max_wait` (30 s by default) must allow it.
LONG_POLL = 25.0
STREAM_RECONNECTS = 5
USER_AGENT = "reverse-otp-client-python"


def path(operation: str, **params: str) -> str:
    """Return an operation's path with its parameters filled in (URL-quoted)."""
    template = OPERATIONS[operation][1]
    return template.format(**{k: quote(v, safe="") for k, v in params.items()})


@dataclass(frozen=True)
class Retry:
    """How 429 and 503 answers (and refused connections) are retried.

    `attempts` retries after the first try, waiting `backoff` seconds doubled each time (with
    jitter), or the answer's `Retry-After` when it gives one. A `Retry-After` longer than
    `max_delay` is not waited for: the error is raised at once with its `retry_after`.
    """

    attempts: int = 3
    backoff: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int, retry_after: Optional[float]) -> Optional[float]:
        """Seconds to wait before retry number `attempt` (0-based), or None to give up."""
        if attempt >= self.attempts:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_delay else None
        base = self.backoff * 2.0**attempt
        jitter: float = random.uniform(0.5, 1.0)  # noqa: S311 - not a secret
        return min(self.max_delay, base * jitter)


RETRIED = frozenset({429, 503})
NO_RETRY = Retry(attempts=0)


def retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Read a Retry-After header: delay seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def error_for(status: int, body: bytes, retry_after_header: Optional[str]) -> ReverseOtpError:
    """Build the exception of an error answer from its `{"error": {"code", "message"}}` body."""
    code, message = f"http_{status}", f"HTTP {status}"
    try:
        detail = json.loads(body)["error"]
        code, message = str(detail["code"]), str(detail["message"])
    except (ValueError, KeyError, TypeError):
        pass
    return for_status(status)(
        code, message, status=status, retry_after=retry_after(retry_after_header)
    )


def decode(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        raise ProtocolError("invalid_response", "the answer is not JSON") from None


def create_body(**fields: Any) -> dict[str, Any]:
    """The create request's JSON body: the parameters that were given."""
    return {k: v for k, v in fields.items() if v is not None}


@dataclass
class SSEEvent:
    event: str
    data: str
    id: Optional[str]


class SSEParser:
    """Server-Sent Events, line by line (https://html.spec.whatwg.org/#event-stream-interpretation)."""

    def __init__(self) -> None:
        self.event = ""
        self.data: list[str] = []
        self.last_id: Optional[str] = None
        self.retry_ms: Optional[int] = None

    def feed(self, line: str) -> Optional[SSEEvent]:
        """Take one line (without its end); return the event a blank line completes."""
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            self.event = value
        elif name == "data":
            self.data.append(value)
        elif name == "id" and "\0" not in value:
            self.last_id = value
        elif name == "retry" and value.isdigit():
            self.retry_ms = int(value)
        return None

    def _dispatch(self) -> Optional[SSEEvent]:
        if not self.data:
            self.event = ""
            return None
        found = SSEEvent(self.event or "message", "\n".join(self.data), self.last_id)
        self.event, self.data = "", []
        return found
