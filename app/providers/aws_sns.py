"""AWS End User Messaging SMS two-way messages, delivered by Amazon SNS over HTTPS.

Docs: https://docs.aws.amazon.com/sms-voice/latest/userguide/two-way-sms-payload.html ,
https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html and
https://docs.aws.amazon.com/sns/latest/dg/http-notification-json.html

Request: POST, body JSON (Content-Type text/plain by default). Fields relied on: Type,
TopicArn, Message (a JSON string with originationNumber, destinationNumber, messageBody,
inboundMessageId), and the signed envelope fields. Authenticity: `Signature` is the RSA
signature (SignatureVersion 1: SHA1, 2: SHA256) of the documented `Name\\nValue\\n` string,
checked with the certificate at SigningCertURL, fetched only over https from an
sns.<region>.amazonaws.com(.cn) host (TLS vouches for it) and cached; TopicArn must be one
of `topic_arns`; Timestamp within `tolerance` (3600) seconds. A SubscriptionConfirmation for an
allowed topic is confirmed by fetching its SubscribeURL (same host rule). Answer: 200.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from app.domain.challenges import Verdict
from app.providers.base import (
    Defaults,
    Item,
    Malformed,
    Part,
    Rejected,
    Reply,
    SettingsError,
    TryLater,
    WebhookRequest,
    inbound,
    json_object,
    json_text,
    number_setting,
)

log = logging.getLogger(__name__)
SNS_HOST = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
SIGNED = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
SIGNED["UnsubscribeConfirmation"] = SIGNED["SubscriptionConfirmation"]
HASHES: dict[str, type[hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}
# Every envelope field read; SNS sends each as a JSON string.
FIELDS = {*SIGNED["SubscriptionConfirmation"], "Subject", "SignatureVersion", "SigningCertURL"}
FIELDS |= {"Signature"}
CACHE_SIZE = 32


def string_to_sign(envelope: Mapping[str, Any]) -> bytes:
    """Return the bytes SNS signs for an envelope (absent optional keys skipped)."""
    keys = SIGNED.get(str(envelope.get("Type")), ())
    return "".join(f"{k}\n{envelope[k]}\n" for k in keys if k in envelope).encode()


def sns_url(url: object) -> bool:
    """True for an https URL on an SNS host (no port, no credentials)."""
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:  # an unbalanced "[" reads as a broken IPv6 host
        return False
    return parts.scheme == "https" and bool(SNS_HOST.match(parts.netloc))


class AwsSns:
    name: ClassVar[str] = "aws-sns"
    auth_key: ClassVar[str] = "topic_arns"
    signed = True

    def __init__(self, topics: list[str], tolerance: int, defaults: Defaults) -> None:
        self.topics = set(topics)
        self.tolerance = tolerance
        self.defaults = defaults
        self.http = defaults.http
        self.certs: dict[str, rsa.RSAPublicKey] = {}

    @classmethod
    def from_settings(cls, section: Mapping[str, Any], defaults: Defaults) -> AwsSns:
        topics = section.get("topic_arns")
        if (
            not isinstance(topics, list)
            or not topics
            or not all(isinstance(t, str) for t in topics)
        ):
            raise SettingsError(
                f"providers.{cls.name}.topic_arns: list the SNS topic ARNs to accept"
            )
        return cls(topics, number_setting(section, cls.name, "tolerance", 3600), defaults)

    def verify(self, request: WebhookRequest, now: datetime) -> None:
        envelope = self._envelope(request)
        if envelope.get("Type") not in SIGNED:
            raise Rejected("unknown_type")
        if envelope.get("TopicArn") not in self.topics:
            raise Rejected("topic_not_allowed")
        algorithm = HASHES.get(str(envelope.get("SignatureVersion")))
        if algorithm is None or not sns_url(envelope.get("SigningCertURL")):
            raise Rejected("bad_signature")
        try:
            signature = base64.b64decode(str(envelope.get("Signature", "")), validate=True)
            key = self._key(str(envelope["SigningCertURL"]))
            key.verify(signature, string_to_sign(envelope), padding.PKCS1v15(), algorithm())
        except (ValueError, binascii.Error, InvalidSignature):
            raise Rejected("bad_signature") from None
        self._check_time(str(envelope.get("Timestamp", "")), now)

    def covers(self, request: WebhookRequest) -> Part:
        return Part.BODY

    def parse(self, request: WebhookRequest) -> Sequence[Item]:
        """Read a notification; confirm a subscription (an outbound GET) and read nothing."""
        envelope = self._envelope(request)
        if envelope.get("Type") == "SubscriptionConfirmation":
            self._confirm(envelope)
            return []
        if envelope.get("Type") != "Notification":
            return []
        message = json_text(str(envelope.get("Message")), "Message")
        if not isinstance(message, dict):
            raise Malformed("Message is not a JSON object")
        fields = (
            message.get("inboundMessageId"),
            message.get("originationNumber"),
            message.get("destinationNumber"),
            message.get("messageBody"),
        )
        return [inbound(self.name, self.defaults, fields, message)]

    def acknowledge(self, verdicts: list[Verdict]) -> Reply:
        return Reply(200, "", "text/plain")

    @staticmethod
    def _envelope(request: WebhookRequest) -> dict[str, Any]:
        envelope = json_object(request)
        odd = sorted(k for k in FIELDS if k in envelope and not isinstance(envelope[k], str))
        if odd:
            raise Malformed(f"envelope fields must be strings: {', '.join(odd)}")
        return envelope

    def _check_time(self, stamp: str, now: datetime) -> None:
        try:
            sent = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            raise Rejected("bad_timestamp") from None
        if sent.tzinfo is None or abs((now - sent).total_seconds()) > self.tolerance:
            raise Rejected("stale_timestamp")

    def _key(self, url: str) -> rsa.RSAPublicKey:
        key = self.certs.get(url)
        if key is not None:
            return key
        try:
            response = self.http.get(url)
        except requests.RequestException as exc:
            raise TryLater(f"signing certificate unreachable: {exc}") from None
        if response.status_code >= 500:
            raise TryLater(f"signing certificate unavailable: HTTP {response.status_code}")
        if response.status_code != 200:
            raise Rejected("unknown_certificate")
        cert = x509.load_pem_x509_certificate(response.content)
        public = cert.public_key()
        if not isinstance(public, rsa.RSAPublicKey):
            raise Rejected("bad_certificate")
        if len(self.certs) >= CACHE_SIZE:
            self.certs.pop(next(iter(self.certs)))
        self.certs[url] = public
        return public

    def _confirm(self, envelope: Mapping[str, Any]) -> None:
        url = envelope.get("SubscribeURL")
        if not sns_url(url):
            raise Malformed("SubscribeURL is not an https SNS URL")
        try:
            self.http.get(str(url)).raise_for_status()
        except requests.RequestException as exc:
            raise TryLater(f"subscription confirmation failed: {exc}") from None
        log.info("aws-sns subscription confirmed topic=%s", envelope.get("TopicArn"))
