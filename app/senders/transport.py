"""Send one message through a sender: HTTP through app/outbound.py, or SMTP.

The provider's host is resolved and refused when it is not public (private, loopback ...),
unless the sender's `allow_private` says otherwise (android-sms-gateway's local server lives
on the LAN). The answer's body is read up to MAX_ANSWER bytes: providers answer in a few
hundred.
"""

from __future__ import annotations

from typing import Any

import requests

from app.outbound import ForbiddenDestination, OutboundHTTP, Resolver, check_destination, resolve
from app.senders.base import Accepted, HttpCall, Outgoing, Sender, SendFailed

MAX_ANSWER = 64 * 1024


class Transport:
    """The outbound edge of every sender."""

    def __init__(self, http: OutboundHTTP | None = None, resolver: Resolver = resolve) -> None:
        self.http = http or OutboundHTTP()
        self.resolver = resolver

    def send(self, sender: Sender, message: Outgoing) -> Accepted:
        """Send `message`; raise SendFailed saying whether a retry could succeed."""
        direct = getattr(sender, "send", None)
        if direct is not None:
            result: Accepted = direct(message)
            return result
        call: HttpCall = sender.build(message)  # type: ignore[attr-defined]
        status, body = self._exchange(call, bool(getattr(sender, "allow_private", False)))
        accepted: Accepted = sender.classify(status, body)  # type: ignore[attr-defined]
        return accepted

    def _exchange(self, call: HttpCall, allow_private: bool) -> tuple[int, bytes]:
        try:
            check_destination(call.url, allow_private, self.resolver)
        except ForbiddenDestination:
            raise SendFailed("forbidden_destination", False) from None
        except OSError:
            raise SendFailed("unresolved_host", True) from None
        kwargs: dict[str, Any] = {"headers": dict(call.headers), "stream": True}
        if call.form is not None:
            kwargs["data"] = dict(call.form)
        if call.json is not None:
            kwargs["json"] = call.json
        if call.auth is not None:
            kwargs["auth"] = call.auth
        try:
            with self.http.post(call.url, **kwargs) as response:
                body = response.raw.read(MAX_ANSWER, decode_content=True) or b""
                return response.status_code, body
        except requests.RequestException:
            raise SendFailed("network", True) from None
