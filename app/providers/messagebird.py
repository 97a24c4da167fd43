"""MessageBird (legacy platform) inbound SMS with request signing.

Docs: https://developers.messagebird.com/docs/verify-http-requests (the signed JWT) and the
SDK validator messagebird/python-rest-api `messagebird/request_validator.py`.

Request: GET query or POST (form or JSON) from number forwarding / Flow Builder "call HTTP
endpoint". The field names are unconfirmed; defaults id, originator, recipient, body, and
every one is a setting (`fields`). Authenticity: header `MessageBird-Signature-JWT`, a JWT
signed HS256/384/512 with the signing key (`signing_key`); claims iss = "MessageBird", nbf and
exp (1 s leeway), url_hash = SHA-256 hex of the public URL, payload_hash = SHA-256 hex of the
raw body (present exactly when a body is). Answer: 200.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from app.crypto import same
from app.providers import jwt
from app.providers.base import Defaults, Part, Rejected, WebhookRequest, required
from app.providers.mapped import Mapped

HEADER = "MessageBird-Signature-JWT"
LEEWAY = 1


def check_claims(claims: dict[str, Any], url: str, body: bytes, now: float) -> None:
    """Raise Rejected unless the claims bind this URL and body and are current."""
    if claims.get("iss") != "MessageBird":
        raise Rejected("bad_issuer")
    nbf, exp = jwt.number_claim(claims, "nbf"), jwt.number_claim(claims, "exp")
    if nbf is None or exp is None or now + LEEWAY < nbf or now - LEEWAY >= exp:
        raise Rejected("stale_timestamp")
    if not same(str(claims.get("url_hash", "")), hashlib.sha256(url.encode()).hexdigest()):
        raise Rejected("url_hash_mismatch")
    given = claims.get("payload_hash")
    if body:
        if not isinstance(given, str) or not same(given, hashlib.sha256(body).hexdigest()):
            raise Rejected("payload_hash_mismatch")
    elif given is not None:
        raise Rejected("payload_hash_mismatch")


class MessageBird(Mapped):
    name: ClassVar[str] = "messagebird"
    auth_key: ClassVar[str] = "signing_key"
    FIELDS: ClassVar[dict[str, str]] = {
        "id": "id",
        "sender": "originator",
        "recipient": "recipient",
        "text": "body",
    }
    INTERNATIONAL = True
    signed = True

    def __init__(self, section: Mapping[str, Any], defaults: Defaults) -> None:
        super().__init__(section, defaults)
        self.key = required(section, self.name, "signing_key")

    def verify(self, request: WebhookRequest, now: datetime) -> None:
        token = request.header(HEADER)
        if not token:
            raise Rejected("missing_signature")
        claims = jwt.verify(token, self.key.encode(), ("HS256", "HS384", "HS512"))
        check_claims(claims, request.url, request.body, now.timestamp())

    def covers(self, request: WebhookRequest) -> Part:
        return Part.ALL  # url_hash binds the URL with its query, payload_hash the body
