"""Bandwidth Messaging v2 callbacks.

Docs: https://dev.bandwidth.com/docs/messaging/webhooks

Request: POST JSON array of events (at least once: duplicates happen). Only `message-received`
events are read; fields relied on: message.id, message.from, message.owner (our number; `to`
when absent), message.text. Authenticity: the callback user and password set on the Bandwidth
application, checked by the generic guard (`basic_username`, `basic_password`); Bandwidth's
messaging callbacks carry no signature. Answer: 200.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from app.domain.challenges import Verdict
from app.providers.base import (
    Defaults,
    Item,
    Malformed,
    Part,
    Reply,
    WebhookRequest,
    dig,
    inbound,
    json_body,
)


class Bandwidth:
    name: ClassVar[str] = "bandwidth"
    signed = False

    def __init__(self, defaults: Defaults) -> None:
        self.defaults = defaults

    @classmethod
    def from_settings(cls, section: Mapping[str, Any], defaults: Defaults) -> Bandwidth:
        return cls(defaults)

    def verify(self, request: WebhookRequest, now: datetime) -> None:
        """No signature: the generic HTTP Basic guard authenticates Bandwidth."""

    def covers(self, request: WebhookRequest) -> Part:
        return Part.ALL  # unsigned: the Basic credential vouches for the whole request

    def parse(self, request: WebhookRequest) -> Sequence[Item]:
        events = json_body(request)
        if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
            raise Malformed("body must be a JSON array of events")
        return [
            inbound(
                self.name,
                self.defaults,
                (
                    dig(e, "message.id"),
                    dig(e, "message.from"),
                    dig(e, "message.owner") or e.get("to"),
                    dig(e, "message.text"),
                ),
                e,
            )
            for e in events
            if e.get("type") == "message-received"
        ]

    def acknowledge(self, verdicts: list[Verdict]) -> Reply:
        return Reply(200, "", "text/plain")
