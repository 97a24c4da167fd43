"""Adapters read through a field mapping: for providers that sign nothing, or whose field
names are not confirmed, every name is a setting (`fields`) with the documented default.

A path is a key of the query string or form body, or a dotted path into a JSON body
("message.from", "to.0.number"). `messages`, when set, is the JSON path of a list whose
entries each map to one message. `number` is the receiving number when the payload has none.
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
    SettingsError,
    WebhookRequest,
    dig,
    inbound,
    json_body,
    optional,
)

ROLES = ("id", "sender", "recipient", "text")


def field_map(
    section: Mapping[str, Any], provider: str, default: Mapping[str, str]
) -> dict[str, str]:
    """Return the field paths: the defaults overridden by the `fields` table."""
    given = section.get("fields", {})
    if not isinstance(given, dict) or not all(isinstance(v, str) for v in given.values()):
        raise SettingsError(f"providers.{provider}.fields: a table of strings")
    unknown = sorted(set(given) - set(ROLES))
    if unknown:
        raise SettingsError(f"providers.{provider}.fields: unknown roles {unknown}; use {ROLES}")
    paths = dict(default) | given
    if "recipient" not in paths and not section.get("number"):
        raise SettingsError(f"providers.{provider}.number: set the number these messages reach")
    return paths


class Mapped:
    """An inbound adapter defined by field paths; subclasses name the provider and defaults."""

    name: ClassVar[str] = "mapped"
    FIELDS: ClassVar[Mapping[str, str]] = {}
    INTERNATIONAL: ClassVar[bool] = False
    LIST: ClassVar[str] = ""
    signed = False

    def __init__(self, section: Mapping[str, Any], defaults: Defaults) -> None:
        self.paths = field_map(section, self.name, self.FIELDS)
        self.number = optional(section, self.name, "number")
        self.list_path = optional(section, self.name, "messages", self.LIST)
        self.defaults = defaults

    @classmethod
    def from_settings(cls, section: Mapping[str, Any], defaults: Defaults) -> Mapped:
        return cls(section, defaults)

    def verify(self, request: WebhookRequest, now: datetime) -> None:
        """No signature of its own: the generic guards (token, Basic, IP) apply."""

    def covers(self, request: WebhookRequest) -> Part:
        """Unsigned: the generic guards' credential vouches for the whole request."""
        return Part.ALL

    def parse(self, request: WebhookRequest) -> Sequence[Item]:
        # JSON by the body's first byte, which a signature covers, not only by the header.
        if request.content_type == "application/json" or request.looks_json:
            data = json_body(request)
        else:
            data = request.params()
        entries = dig(data, self.list_path) if self.list_path else data
        if self.list_path and not isinstance(entries, list):
            raise Malformed(f"{self.list_path} is not a list")
        return [self._one(e, data) for e in (entries if self.list_path else [data])]

    def _one(self, entry: Any, data: Any) -> Item:
        if not isinstance(entry, dict):
            raise Malformed("a message must be an object")
        to = dig(entry, self.paths["recipient"]) if "recipient" in self.paths else None
        fields = (
            dig(entry, self.paths["id"]),
            dig(entry, self.paths["sender"]),
            to or self.number or None,
            dig(entry, self.paths["text"]),
        )
        raw = data if isinstance(data, dict) else {"messages": data}
        return inbound(self.name, self.defaults, fields, raw, self.INTERNATIONAL)

    def acknowledge(self, verdicts: list[Verdict]) -> Reply:
        return Reply(200, "", "text/plain")
