"""Any other provider or in-house gateway: every field path is a setting.

Fields: `fields = {id = "id", sender = "from", recipient = "to", text = "text"}` (the defaults),
read from the query, the form or the JSON body; `messages` names a JSON list of messages;
`number` is the receiving number when the payload has none. Authenticity, by
`signature_scheme`:
- "hmac" (the default): an HMAC of the raw body in a header (`signature_header`,
  `signature_secret`, `signature_algorithm` sha256 by default, `signature_encoding` hex or
  base64);
- "standard-webhooks" (https://www.standardwebhooks.com/, spec `standard-webhooks.md`):
  `webhook-signature` holds space-separated `v1,<base64 HMAC-SHA256>` signatures of
  "<webhook-id>.<webhook-timestamp>.<raw body>" under `signature_secret` (`whsec_` followed by
  the base64 key); `webhook-timestamp` (unix seconds) must be within `tolerance` (300) seconds;
else the generic guards (path token, HTTP Basic, IP allow-list). A signature covers the body
only: a signed request with a query string is refused. Answer: 200, empty.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from app.crypto import same
from app.providers.base import (
    Defaults,
    Part,
    Rejected,
    SettingsError,
    WebhookRequest,
    check_fresh,
    number_setting,
    optional,
)
from app.providers.mapped import Mapped

SCHEMES = ("hmac", "standard-webhooks")


def standard_key(secret: str) -> bytes:
    """Return the key of a Standard Webhooks secret (`whsec_` and base64), or raise ValueError."""
    encoded = secret.removeprefix("whsec_")
    try:
        key = base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error):
        raise ValueError("not base64 after the whsec_ prefix") from None
    if len(key) < 16:
        raise ValueError("the key must be at least 16 bytes")
    return key


def standard_signature(key: bytes, message_id: str, timestamp: str, body: bytes) -> str:
    """Return the Standard Webhooks v1 signature (base64) of a message."""
    signed = message_id.encode() + b"." + timestamp.encode() + b"." + body
    return base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


class Generic(Mapped):
    name: ClassVar[str] = "generic"
    auth_key: ClassVar[str] = "signature_secret"
    FIELDS: ClassVar[dict[str, str]] = {
        "id": "id",
        "sender": "from",
        "recipient": "to",
        "text": "text",
    }

    def __init__(self, section: Mapping[str, Any], defaults: Defaults) -> None:
        super().__init__(section, defaults)
        self.scheme = optional(section, self.name, "signature_scheme", "hmac")
        if self.scheme not in SCHEMES:
            raise SettingsError(f"providers.{self.name}.signature_scheme: one of {SCHEMES}")
        self.header = optional(section, self.name, "signature_header")
        self.secret = optional(section, self.name, "signature_secret")
        self.algorithm = optional(section, self.name, "signature_algorithm", "sha256")
        self.encoding = optional(section, self.name, "signature_encoding", "hex")
        self.tolerance = number_setting(section, self.name, "tolerance", 300)
        self.signed = bool(self.secret)
        if self.scheme == "standard-webhooks":
            self.key = self._standard_key()
            return
        if self.algorithm not in ("sha1", "sha256", "sha512") or self.encoding not in (
            "hex",
            "base64",
        ):
            raise SettingsError(
                f"providers.{self.name}.signature_algorithm: sha1, sha256 or sha512; "
                "signature_encoding: hex or base64"
            )
        if bool(self.header) != bool(self.secret):
            raise SettingsError(
                f"providers.{self.name}.signature_secret: set both signature_header and secret"
            )

    def _standard_key(self) -> bytes:
        try:
            return standard_key(self.secret)
        except ValueError as exc:
            raise SettingsError(
                f"providers.{self.name}.signature_secret: a Standard Webhooks secret "
                f"(whsec_ and base64): {exc}"
            ) from None

    def sign(self, body: bytes) -> str:
        """Return the signature expected for a raw body (the "hmac" scheme)."""
        digest = hmac.new(self.secret.encode(), body, self.algorithm).digest()
        return digest.hex() if self.encoding == "hex" else base64.b64encode(digest).decode()

    def verify(self, request: WebhookRequest, now: datetime) -> None:
        if not self.secret:
            return
        if self.scheme == "standard-webhooks":
            self._verify_standard(request, now)
            return
        given = request.header(self.header)
        if not given:
            raise Rejected("missing_signature")
        expected = self.sign(request.body)
        given = given.strip().lower() if self.encoding == "hex" else given.strip()
        if not same(expected, given):
            raise Rejected("bad_signature")

    def _verify_standard(self, request: WebhookRequest, now: datetime) -> None:
        message_id = request.header("webhook-id")
        stamp = request.header("webhook-timestamp")
        given = request.header("webhook-signature")
        if not message_id or not stamp or not given:
            raise Rejected("missing_signature")
        expected = standard_signature(self.key, message_id, stamp, request.body)
        versions = (entry.partition(",") for entry in given.split())
        # Every signature is compared, so timing tells nothing about which one matched.
        matches = [same(expected, sig) for version, _, sig in versions if version == "v1"]
        if not any(matches):
            raise Rejected("bad_signature")
        check_fresh(stamp, now, self.tolerance)

    def covers(self, request: WebhookRequest) -> Part:
        return Part.BODY if self.signed else Part.ALL
