"""Correctly signed webhook requests for every provider: one `ProviderSample` record each.

A record holds what the provider suites need to act as that provider: its settings section,
its number and the channel that number is listed for, the credential that section trusts (and
one of the same shape it does not), how the provider proves a request (its own signature, a path
token or HTTP Basic), whether it signs a time, and the builder of a signed request from (text,
sender, to, id, now). Each record stands beside its builder, registered by `@provider_sample`;
`SAMPLES` maps names to records and the contract suite checks that its names are exactly the
registry's, so an adapter without a record fails instead of going untested.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from cryptography.x509.oid import NameOID

from app.providers import (
    REGISTRY,
    android_sms_gateway,
    bird,
    jwt,
    plivo,
    sinch,
    twilio,
    vonage,
    whatsapp,
)
from app.providers.base import WebhookRequest
from app.providers.simulator import HEADER as SIM_HEADER
from app.providers.simulator import sign as sim_sign
from tests.conftest import PUBLIC_URL, SIM_SECRET, TWILIO_TOKEN

TELNYX_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
TELNYX_KEY = ed25519.Ed25519PrivateKey.from_private_bytes(TELNYX_SEED)
OTHER_TELNYX_KEY = ed25519.Ed25519PrivateKey.from_private_bytes(b"\x01" * 32)


def _public_b64(key: ed25519.Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def _rsa_cert(common_name: str) -> tuple[rsa.RSAPrivateKey, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    start = datetime(2020, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=36500))
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.PEM)


SNS_KEY, SNS_CERT_PEM = _rsa_cert("sns.amazonaws.com")
OTHER_SNS_KEY, _ = _rsa_cert("attacker.example")
SNS_CERT_URL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.pem"
SNS_TOPIC = "arn:aws:sns:eu-west-1:111122223333:two-way-sms"
SNS_SUBSCRIBE_URL = (
    "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn="
    + SNS_TOPIC
    + "&Token=tok"
)
SENDER = "+33612345678"
BIRD_CHANNEL = "6b5ab4f5-42c9-5e9a-b7dd-0bce1b6f0c14"
BIRD_NUMBER = "+14155550107"
ANDROID_NUMBER = "+14155550113"
DEVICE = "0000000019c2d7bf00000195d216644c"
PROVIDERS = sorted(REGISTRY)


def _basic(pair: tuple[str, str]) -> str:
    return "Basic " + base64.b64encode(f"{pair[0]}:{pair[1]}".encode()).decode()


@dataclass(frozen=True)
class Sample:
    """A request as the provider would send it: method, path with query, headers, body."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def url(self) -> str:
        return PUBLIC_URL + self.path

    def request(self, remote_addr: str = "203.0.113.9") -> WebhookRequest:
        """Return the framework-free request the webhook route would build."""
        parts = urlsplit(self.path)
        segments = parts.path.strip("/").split("/")
        return WebhookRequest(
            method=self.method,
            url=self.url,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self.body,
            query=parse_qsl(parts.query, keep_blank_values=True),
            remote_addr=remote_addr,
            path_token=segments[2] if len(segments) > 2 else None,
        )

    def send(self, client: Any) -> Any:
        """Post (or get) it through a Flask test client."""
        return client.open(self.path, method=self.method, headers=self.headers, data=self.body)

    def with_body(self, body: bytes) -> Sample:
        return replace(self, body=body)


class Builder(Protocol):
    """Sign an inbound request with `key`; `ts` is `now` in Unix seconds, `v` a variant."""

    def __call__(
        self, key: Any, text: str, sender: str, to: str, mid: str, now: datetime, ts: str, v: str
    ) -> Sample: ...


Auth = Literal["signature", "token", "basic"]


def _same(mid: str) -> str:
    return mid


def _other(key: Any) -> Any:
    """A credential of the same shape as `key` that the test settings do not trust."""
    if isinstance(key, tuple):
        return tuple(part + "x" for part in key)
    assert isinstance(key, str), "give other_key for keys that are not text"
    return key + "-other"


@dataclass(frozen=True)
class ProviderSample:
    """One provider as the tests act it: settings, credentials, proof and signed requests.

    `key` is what the settings section trusts: a shared secret, a private key whose public half
    the section holds, a path token, or a (user, password) pair; `channel` is the channel its
    number is listed for (`numbers[].channel`). `proof` lists the headers that carry a
    signature; `unsign` removes a signature carried elsewhere (a body field). `answers` is the
    acknowledgement's content type, `variants` the other requests it may send (GET callbacks,
    other encodings), and `message_id` the id its adapter reads for a sample id.
    """

    name: str
    number: str
    key: Any
    section: dict[str, Any]
    builder: Builder
    channel: str = "sms"
    auth: Auth = "signature"
    other_key: Any = None
    timestamped: bool = False
    proof: tuple[str, ...] = ()
    unsign: Callable[[Sample], Sample] | None = None
    answers: str = "text/plain"
    variants: tuple[str, ...] = ()
    message_id: Callable[[str], str] = _same

    def build(
        self,
        text: str,
        sender: str,
        to: str,
        mid: str,
        now: datetime,
        *,
        variant: str = "",
        other_key: bool = False,
    ) -> Sample:
        """Return a correctly signed inbound request (signed with `other_key` if asked)."""
        key = (
            (self.other_key if self.other_key is not None else _other(self.key))
            if other_key
            else self.key
        )
        return self.builder(key, text, sender, to, mid, now, str(int(now.timestamp())), variant)

    def tamper(self, sample: Sample, sender: str) -> Sample:
        """Change one byte that would matter: the credential of token/Basic providers, else the
        sender's last digit (so an accepted forgery would verify a challenge for another phone)."""
        if self.auth == "token":
            token = self.key
            return replace(sample, path=sample.path.replace(token, token[:-1] + "X", 1))
        if self.auth == "basic":
            user, password = self.key
            headers = sample.headers | {"Authorization": _basic((user, password[:-1] + "X"))}
            return replace(sample, headers=headers)
        old = digits(sender)
        new = old[:-1] + ("1" if old[-1] != "1" else "2")
        if sample.method == "GET":
            return replace(sample, path=sample.path.replace(old, new, 1))
        assert old.encode() in sample.body, self.name
        return replace(sample, body=sample.body.replace(old.encode(), new.encode(), 1))

    def without_proof(self, sample: Sample) -> Sample:
        """The request with its path token, Basic credential or signature removed."""
        if self.auth == "token":
            return replace(sample, path=sample.path.replace("/" + self.key, "", 1))
        if self.unsign is not None:
            return self.unsign(sample)
        assert self.proof, f"{self.name}: name the headers carrying its proof (proof=...)"
        drop = {h.lower() for h in self.proof}
        return replace(
            sample, headers={k: v for k, v in sample.headers.items() if k.lower() not in drop}
        )


class _Samples(dict[str, ProviderSample]):
    def __missing__(self, name: str) -> ProviderSample:
        raise LookupError(f"provider {name!r} has no ProviderSample in tests/providers/samples.py")


SAMPLES = _Samples()


def provider_sample(name: str, **record: Any) -> Callable[[Builder], ProviderSample]:
    """Register the decorated builder with the rest of `name`'s record in SAMPLES."""

    def register(builder: Builder) -> ProviderSample:
        assert name not in SAMPLES, f"two samples for {name}"
        SAMPLES[name] = ProviderSample(name=name, builder=builder, **record)
        return SAMPLES[name]

    return register


def build(
    provider: str,
    text: str,
    sender: str,
    to: str,
    message_id: str,
    now: datetime,
    *,
    variant: str = "",
    other_key: bool = False,
) -> Sample:
    """Return a correctly signed inbound request for a provider (see ProviderSample.build)."""
    return SAMPLES[provider].build(
        text, sender, to, message_id, now, variant=variant, other_key=other_key
    )


def settings_for(*providers: str, **extra: Any) -> dict[str, Any]:
    """Settings sections (for conftest.base_settings) enabling providers on their numbers."""
    return {
        "numbers": [
            {"number": SAMPLES[p].number, "provider": p, "channel": SAMPLES[p].channel}
            for p in providers
        ],
        "providers": {p: SAMPLES[p].section for p in providers} | extra,
    }


def digits(number: str) -> str:
    return number.lstrip("+")


def _form(pairs: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    return urlencode(pairs).encode(), {"Content-Type": "application/x-www-form-urlencoded"}


def _json(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


JSON = {"Content-Type": "application/json"}


def twilio_sid(mid: str) -> str:
    """A MessageSid in Twilio's format (SM and 32 hex digits) standing for a sample id."""
    return "SM" + hashlib.sha256(mid.encode()).hexdigest()[:32]


def plivo_uuid(mid: str) -> str:
    """A MessageUUID in Plivo's format (a UUID) standing for a sample id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "plivo:" + mid))


def mock_sns(mock: Any) -> Any:
    """Serve the test signing certificate and subscription URL; other SNS paths are 404."""
    import re

    mock.get(re.compile(r"^https://sns\."), status_code=404)
    mock.get(SNS_CERT_URL, content=SNS_CERT_PEM)
    mock.get(SNS_SUBSCRIBE_URL, text="<ConfirmSubscriptionResponse/>")
    return mock


def _unsign_vonage(s: Sample) -> Sample:
    pairs = [(k, v) for k, v in parse_qsl(s.body.decode()) if k != "sig"]
    return s.with_body("&".join(f"{k}={v}" for k, v in pairs).encode())


def _unsign_sns(s: Sample) -> Sample:
    envelope = json.loads(s.body)
    del envelope["Signature"]
    return s.with_body(json.dumps(envelope).encode())


@provider_sample(
    "simulator",
    number="+15017122661",
    key=SIM_SECRET,
    section={"secret": SIM_SECRET},
    proof=("X-Simulator-Signature",),
    answers="application/json",
)
def _simulator(
    key: str, text: str, sender: str, to: str, mid: str, now: datetime, ts: str, v: str
) -> Sample:
    body = _json({"from": sender, "to": to, "text": text, "id": mid})
    return Sample("POST", "/webhooks/simulator", JSON | {SIM_HEADER: sim_sign(key, body)}, body)


@provider_sample(
    "twilio",
    number="+14155550100",
    key=TWILIO_TOKEN,
    section={"auth_token": TWILIO_TOKEN},
    proof=("X-Twilio-Signature",),
    answers="text/xml",
    variants=("get",),
    message_id=twilio_sid,
)
def _twilio(
    key: str, text: str, sender: str, to: str, mid: str, now: datetime, ts: str, v: str
) -> Sample:
    mid = twilio_sid(mid)
    fields = {
        "ToCountry": "US",
        "SmsMessageSid": mid,
        "NumMedia": "0",
        "SmsSid": mid,
        "SmsStatus": "received",
        "Body": text,
        "To": to,
        "NumSegments": "1",
        "MessageSid": mid,
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }
    if v == "get":
        path = "/webhooks/twilio?" + urlencode(fields)
        sig = twilio.signature(key, PUBLIC_URL + path, [])
        return Sample("GET", path, {"X-Twilio-Signature": sig})
    body, headers = _form(fields)
    sig = twilio.signature(key, PUBLIC_URL + "/webhooks/twilio", list(fields.items()))
    return Sample("POST", "/webhooks/twilio", headers | {"X-Twilio-Signature": sig}, body)


VONAGE_KEY = "vonage-signature-secret"


@provider_sample(
    "vonage",
    number="+14155550103",
    key=VONAGE_KEY,
    section={"signature_secret": VONAGE_KEY, "signature_method": "sha256"},
    timestamped=True,
    unsign=_unsign_vonage,
    variants=("get", "json"),
)
def _vonage(
    key: str, text: str, sender: str, to: str, mid: str, now: datetime, ts: str, v: str
) -> Sample:
    params = {
        "msisdn": digits(sender),
        "to": digits(to),
        "messageId": mid,
        "text": text,
        "type": "text",
        "keyword": text.split(" ")[0].upper() if text else "",
        "api-key": "abcd1234",
        "message-timestamp": now.strftime("%Y-%m-%d %H:%M:%S"),
        "timestamp": ts,
        "nonce": "b1e5a7c0-1111-4c3b-9a57-d2a4e6f7a8b9",
    }
    if v.startswith("concat:"):
        _, ref, part, total = v.split(":")
        params |= {"concat": "true", "concat-ref": ref, "concat-part": part, "concat-total": total}
    params["sig"] = vonage.signature(key, params, "sha256")
    if v == "get":
        return Sample("GET", "/webhooks/vonage?" + urlencode(params))
    if v == "json":
        return Sample("POST", "/webhooks/vonage", JSON, _json(params))
    body, headers = _form(params)
    return Sample("POST", "/webhooks/vonage", headers, body)


VONAGE_MESSAGES_KEY = "vonage-messages-signature-secret"


@provider_sample(
    "vonage-messages",
    number="+14155550104",
    key=VONAGE_MESSAGES_KEY,
    section={"signature_secret": VONAGE_MESSAGES_KEY},
    timestamped=True,
    proof=("Authorization",),
)
def _vonage_messages(
    key: str, text: str, sender: str, to: str, mid: str, now: datetime, ts: str, v: str
) -> Sample:
    body = _json(
        {
            "channel": "sms",
            "message_uuid": mid,
            "to": digits(to),
            "from": digits(sender),
            "timestamp": now.isoformat().replace("+00:00", "Z"),
            "text": text,
            "sms": {"num_messages": "1", "keyword": text.split(" ")[0].upper() if text else ""},
            "usage": {"price": "0.0057", "currency": "EUR"},
            "message_type": "text",
        }
    )
    claims = {
        "iat": int(ts),
        "jti": "c3b0b1e4-5b2d-4f0e-9d6a-2f1e8c7b6a5d",
        "iss": "Vonage",
        "payload_hash": hashlib.sha256(body).hexdigest(),
        "api_key": "abcd1234",
        "application_id": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
    }
    token = jwt.sign(claims, key.encode())
    return Sample(
        "POST", "/webhooks/vonage-messages", JSON | {"Authorization": f"Bearer {token}"}, body
    )


PLIVO_KEY = "plivo-auth-token"


@provider_sample(
    "plivo",
    number="+14155550105",
    key=PLIVO_KEY,
    section={"auth_token": PLIVO_KEY},
    proof=("X-Plivo-Signature-V3", "X-Plivo-Signature-V3-Nonce"),
    answers="application/xml",
    variants=("get",),
    message_id=plivo_uuid,
)
def _plivo(
    key: str, text: str, sender: str, to: str, mid: str, now: datetime, ts: str, v: str
) -> Sample:
    fields = {
        "From": digits(sender),
        "To": digits(to),
        "Type": "sms",
        "Text": text,
        "MessageUUID": plivo_uuid(mid),
        "Units": "1",
        "TotalRate": "0",
        "TotalAmount": "0",
        "MessageIntent": "",
        "PowerpackUUID": "",
    }
    body, headers = _form(fields)
    url = PUBLIC_URL + "/webhooks/plivo"
    nonce = "16261234567890123456"
    if v == "v2":
        sig = plivo.v2_signature(key, url, nonce)
        return Sample(
            "POST",
            "/webhooks/plivo",
            headers | {"X-Plivo-Signature-V2": sig, "X-Plivo-Signature-V2-Nonce": nonce},
            body,
        )
    if v == "get":
        path = "/webhooks/plivo?" + urlencode(fields)
        sig = plivo.v3_signature(key, PUBLIC_URL + path, "GET", [], nonce)
        return Sample(
            "GET", path, {"X-Plivo-Signature-V3": sig, "X-Plivo-Signature-V3-Nonce": nonce}
        )
    sig = plivo.v3_signature(key, url, "POST", list(fields.items()), nonce)
    extra = {"X-Plivo-Signature-V3": sig, "X-Plivo-Signature-V3-Nonce": nonce}
    return Sample("POST", "/webhooks/plivo", headers | extra, body)


@provider_sample(
    "telnyx",
    number="+14155550106",
    key=TELNYX_KEY,
    other_key=OTHER_TELNYX_KEY,
    section={"public_key": _public_b64(TELNYX_KEY)},
    timestamped=True,
    proof=("telnyx-signature-ed25519",),
)
def _telnyx(
    key: Any, text: str, sender: str, to: str, mid: str, now: datetime, ts: str, v: str
) -> Sample:
    stamp = now.isoformat().replace("+00:00", "Z")
    body = _json(
        {
            "data": {
                "event_type": "message.received",
                "id": "b301ed3f-1490-491f-995f-6e64e69674d4",
                "occurred_at": stamp,
                "payload": {
                    "direction": "inbound",
                    "from": {
                        "carrier": "T-Mobile USA",
                        "line_type": "long_code",
                        "phone_number": sender,
                    },
                    "id": mid,
                    "messaging_profile_id": "740572b6-099c-44a1-89b9-6c92163bc68d",
                    "parts": 1,
                    "received_at": stamp,
                    "record_type": "message",
                    "text": text,
                    "to": [{"phone_number": to, "status": "webhook_delivered"}],
                    "type": "SMS",
                },
                "record_type": "event",
            },
            "meta": {"attempt": 1, "delivered_to": PUBLIC_URL + "/webhooks/telnyx"},
        }
    )
    sig = base64.b64encode(key.sign(ts.encode() + b"|" + body)).decode()
    headers = JSON | {"telnyx-signature-ed25519": sig, "telnyx-timestamp": ts}
    return Sample("POST", "/webhooks/telnyx", headers, body)


BIRD_KEY = "bird-signing-key"


@provider_sample(
    "bird",
    number=BIRD_NUMBER,
    key=BIRD_KEY,
    section={"signing_key": BIRD_KEY, "channel_numbers": {BIRD_CHANNEL: BIRD_NUMBER}},
    timestamped=True,
    proof=("messagebird-signature",),
)
def _bird(
    key: str, text: str, sender: str, to: str, mid: str, now: datetime, ts: str, v: str
) -> Sample:
    message: dict[str, Any] = {
        "id": mid,
        "channelId": BIRD_CHANNEL,
        "sender": {"contact": {"identifierKey": "phonenumber", "identifierValue": sender}},
        "receiver": {"connector": {"id": "0c9b0b4e-1a2b-4c3d-8e9f-0a1b2c3d4e5f"}},
        "body": {"type": "text", "text": {"text": text}},
        "direction": "incoming",
        "status": "delivered",
        "createdAt": now.isoformat().replace("+00:00", "Z"),
    }
    if to != BIRD_NUMBER:
        message["receiver"]["contact"] = {"identifierValue": to}
    body = _json({"service": "channels", "event": "sms.inbound", "payload": message})
    sig = bird.signature(key, ts, PUBLIC_URL + "/webhooks/bird", body)
    headers = JSON | {"messagebird-signature": sig, "messagebird-request-timestamp": ts}
    return Sample("POST", "/webhooks/bird", headers, body)


MESSAGEBIRD_KEY = "messagebird-signing-key"


@provider_sample(
    "messagebird",
    number="+14155550108",
    key=MESSAGEBIRD_KEY,
    section={"signing_key": MESSAGEBIRD_KEY},
    timestamped=True,
    proof=("MessageBird-Signature-JWT",),
)
def _messagebird(
    key: str, text: str, sender: str, to: str, mid: str, now: datetime, ts: str, v: str
) -> Sample:
    fields = {
        "id": mid,
        "recipient": digits(to),
        "originator": digits(sender),
        "body": text,
        "createdDatetime": now.isoformat(),
    }
    body, headers = _form(fields)
    url = PUBLIC_URL + "/webhooks/messagebird"
    claims = {
        "iss": "MessageBird",
        "nbf": int(ts),
        "exp": int(ts) + 60,
        "jti": "59a244dc-e9ad-4e23-9778-371faa238f72",
        "url_hash": hashlib.sha256(url.encode()).hexdigest(),
        "payload_hash": hashlib.sha256(body).hexdigest(),
    }
    token = jwt.sign(claims, key.encode())
    return Sample(
        "POST", "/webhooks/messagebird", headers | {"MessageBird-Signature-JWT": token}, body
    )


SINCH_KEY = "sinch-signing-secret"


@provider_sample(
    "sinch",
    number="+14155550109",
    key=SINCH_KEY,
    section={"signing_secret": SINCH_KEY},
    timestamped=True,
    proof=("x-sinch-webhook-signature",),
)
def _sinch(
    key: str, text: str, sender: str, to: str, mid: str, now: datetime, ts: str, v: str
) -> Sample:
    stamp = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    body = _json(
        {
            "type": "mo_text",
            "id": mid,
            "from": digits(sender),
            "to": digits(to),
            "body": text,
            "received_at": stamp,
            "operator_id": "20810",
        }
    )
    nonce = "01FJA8B4A7BM43YGWSG9GBV067"
    headers = JSON | {
        "x-sinch-webhook-signature": sinch.signature(key, body, nonce, ts),
        "x-sinch-webhook-signature-nonce": nonce,
        "x-sinch-webhook-signature-timestamp": ts,
        "x-sinch-webhook-signature-algorithm": "HmacSHA256",
    }
    return Sample("POST", "/webhooks/sinch", headers, body)


INFOBIP_KEY = ("infobip-user", "infobip-password-0123456789-abcdef")


@provider_sample(
    "infobip",
    number="+14155550110",
    key=INFOBIP_KEY,
    section={"basic_username": INFOBIP_KEY[0], "basic_password": INFOBIP_KEY[1]},
    auth="basic",
    proof=("Authorization",),
)
def _infobip(
    key: Any, text: str, sender: str, to: str, mid: str, now: datetime, ts: str, v: str
) -> Sample:
    count = int(v) if v.isdigit() else 1
    results = [
        {
            "messageId": mid if i == 0 else f"{mid}-{i}",
            "from": digits(sender),
            "to": digits(to),
            "text": text,
            "cleanText": " ".join(text.split(" ")[1:]),
            "keyword": text.split(" ")[0].upper() if text else "",
            "receivedAt": now.isoformat(timespec="milliseconds").replace("+00:00", "+0000"),
            "smsCount": 1,
            "price": {"pricePerMessage": 0, "currency": "EUR"},
            "callbackData": "callbackData",
        }
        for i in range(count)
    ]
    body = _json({"results": results, "messageCount": count, "pendingMessageCount": 0})
    return Sample("POST", "/webhooks/infobip", JSON | {"Authorization": _basic(key)}, body)


BANDWIDTH_KEY = ("bandwidth-user", "bandwidth-password-0123456789-abcd")


@provider_sample(
    "bandwidth",
    number="+14155550111",
    key=BANDWIDTH_KEY,
    section={"basic_username": BANDWIDTH_KEY[0], "basic_password": BANDWIDTH_KEY[1]},
    auth="basic",
    proof=("Authorization",),
)
def _bandwidth(
    key: Any, text: str, sender: str, to: str, mid: str, now: datetime, ts: str, v: str
) -> Sample:
    stamp = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    body = _json(
        [
            {
                "type": "message-received",
                "time": stamp,
                "description": "Incoming message received",
                "to": to,
                "message": {
                    "id": mid,
                    "time": stamp,
                    "to": [to],
                    "from": sender,
                    "text": text,
                    "applicationId": "93de2206-9669-4e07-948d-329f4b722ee2",
                    "owner": to,
                    "direction": "in",
                    "segmentCount": 1,
                },
            }
        ]
    )
    return Sample("POST", "/webhooks/bandwidth", JSON | {"Authorization": _basic(key)}, body)


def sns_envelope(
    key: Any, message: str, now: datetime, kind: str = "Notification", version: str = "2"
) -> dict[str, str]:
    """Return a signed SNS envelope carrying `message`."""
    envelope = {
        "Type": kind,
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": SNS_TOPIC,
        "Message": message,
        "Timestamp": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "SignatureVersion": version,
        "SigningCertURL": SNS_CERT_URL,
    }
    if kind == "Notification":
        envelope["UnsubscribeURL"] = "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe"
    else:
        envelope |= {"Token": "tok", "SubscribeURL": SNS_SUBSCRIBE_URL}
    from app.providers.aws_sns import string_to_sign

    algorithm = hashes.SHA256() if version == "2" else hashes.SHA1()
    signature = key.sign(string_to_sign(envelope), padding.PKCS1v15(), algorithm)
    envelope["Signature"] = base64.b64encode(signature).decode()
    return envelope


@provider_sample(
    "aws-sns",
    number="+14155550112",
    key=SNS_KEY,
    other_key=OTHER_SNS_KEY,
    section={"topic_arns": [SNS_TOPIC]},
    timestamped=True,
    unsign=_unsign_sns,
)
def _aws_sns(
    key: Any, text: str, sender: str, to: str, mid: str, now: datetime, ts: str, v: str
) -> Sample:
    message = json.dumps(
        {
            "originationNumber": sender,
            "destinationNumber": to,
            "messageKeyword": "KEYWORD_111122223333",
            "messageBody": text,
            "inboundMessageId": mid,
            "previousPublishedMessageId": "wJ0xmpl3Y3mzN1zTq3Yv",
        }
    )
    envelope = sns_envelope(key, message, now, version="1" if v == "v1" else "2")
    headers = {
        "Content-Type": "text/plain; charset=UTF-8",
        "x-amz-sns-message-type": "Notification",
        "x-amz-sns-message-id": envelope["MessageId"],
        "x-amz-sns-topic-arn": SNS_TOPIC,
    }
    return Sample("POST", "/webhooks/aws-sns", headers, json.dumps(envelope).encode())


ANDROID_KEY = "android-signing-key"


@provider_sample(
    "android-sms-gateway",
    number=ANDROID_NUMBER,
    key=ANDROID_KEY,
    section={"signing_key": ANDROID_KEY, "number": ANDROID_NUMBER},
    timestamped=True,
    proof=("X-Signature",),
    message_id=lambda mid: f"{DEVICE}/{mid}",
)
def _android_sms_gateway(
    key: str, text: str, sender: str, to: str, mid: str, now: datetime, ts: str, v: str
) -> Sample:
    payload: dict[str, Any] = {
        "message": text,
        "receivedAt": now.isoformat(timespec="milliseconds"),
        "messageId": hashlib.sha256(text.encode()).hexdigest()[:8],
        "phoneNumber": sender,
        "simNumber": 1,
    }
    if to != ANDROID_NUMBER:
        payload["recipient"] = to
    body = _json(
        {
            "deviceId": DEVICE,
            "event": "sms:received",
            "id": mid,
            "payload": payload,
            "webhookId": "kDMXGXUeNs_-d2HZ3unHT",
        }
    )
    headers = JSON | {
        "X-Signature": android_sms_gateway.signature(key, body, ts),
        "X-Timestamp": ts,
    }
    return Sample("POST", "/webhooks/android-sms-gateway", headers, body)


SMSGATEWAY24_TOKEN = "smsgateway24-path-token-0123456789"


@provider_sample(
    "smsgateway24",
    number="+14155550114",
    key=SMSGATEWAY24_TOKEN,
    section={"path_token": SMSGATEWAY24_TOKEN, "number": "+14155550114"},
    auth="token",
)
def _smsgateway24(
    key: str, text: str, sender: str, to: str, mid: str, now: datetime, ts: str, v: str
) -> Sample:
    stamp = now.strftime("%Y-%m-%d %H:%M:%S")
    body = _json(
        {
            "address": sender,
            "date": stamp,
            "date_sent": stamp,
            "body": text,
            "internal_id": "1045",
            "channel_id": "0",
            "sms_id": mid,
            "device_id": "3221",
            "device_name": "Samsung A10",
            "type": "text",
        }
    )
    return Sample("POST", f"/webhooks/smsgateway24/{key}", JSON, body)


SMSMODE_TOKEN = "smsmode-path-token-0123456789-abc"


@provider_sample(
    "smsmode",
    number="+14155550115",
    key=SMSMODE_TOKEN,
    section={"path_token": SMSMODE_TOKEN},
    auth="token",
)
def _smsmode(
    key: str, text: str, sender: str, to: str, mid: str, now: datetime, ts: str, v: str
) -> Sample:
    query = urlencode(
        {
            "numero": digits(sender),
            "message": text,
            "smsID": mid,
            "destinataire": digits(to),
            "date_reception": now.strftime("%d%m%Y-%H:%M"),
        }
    )
    return Sample("GET", f"/webhooks/smsmode/{key}?{query}")


AFRICASTALKING_TOKEN = "africastalking-path-token-0123456789"


@provider_sample(
    "africastalking",
    number="+14155550116",
    key=AFRICASTALKING_TOKEN,
    section={"path_token": AFRICASTALKING_TOKEN},
    auth="token",
)
def _africastalking(
    key: str, text: str, sender: str, to: str, mid: str, now: datetime, ts: str, v: str
) -> Sample:
    body, headers = _form(
        {
            "linkId": "SampleLinkId123",
            "text": text,
            "to": to,
            "id": mid,
            "date": now.strftime("%Y-%m-%d %H:%M:%S"),
            "from": sender,
            "networkCode": "63902",
        }
    )
    return Sample("POST", f"/webhooks/africastalking/{key}", headers, body)


TEXTMAGIC_TOKEN = "textmagic-path-token-0123456789-ab"


@provider_sample(
    "textmagic",
    number="+14155550117",
    key=TEXTMAGIC_TOKEN,
    section={"path_token": TEXTMAGIC_TOKEN},
    auth="token",
)
def _textmagic(
    key: str, text: str, sender: str, to: str, mid: str, now: datetime, ts: str, v: str
) -> Sample:
    body = _json(
        {
            "id": mid,
            "sender": digits(sender),
            "receiver": digits(to),
            "messageTime": now.isoformat(),
            "text": text,
        }
    )
    return Sample("POST", f"/webhooks/textmagic/{key}", JSON, body)


GENERIC_KEY = "generic-hmac-secret"


@provider_sample(
    "generic",
    number="+14155550118",
    key=GENERIC_KEY,
    section={"signature_header": "X-Signature", "signature_secret": GENERIC_KEY},
    proof=("X-Signature",),
)
def _generic(
    key: str, text: str, sender: str, to: str, mid: str, now: datetime, ts: str, v: str
) -> Sample:
    body = _json({"id": mid, "from": sender, "to": to, "text": text})
    sig = hmac.new(key.encode(), body, "sha256").hexdigest()
    return Sample("POST", "/webhooks/generic", JSON | {"X-Signature": sig}, body)


WHATSAPP_KEY = "whatsapp-app-secret"
WHATSAPP_NUMBER = "+14155550119"
_WA_PHONE_ID = "106540352242922"
_WA_VERIFY_TOKEN = "whatsapp-verify-token-0123456789"


def whatsapp_body(
    messages: list[dict[str, Any]], to: str = "", statuses: list[dict[str, Any]] | None = None
) -> bytes:
    """A Cloud API `messages` notification carrying these messages (and statuses)."""
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": digits(to or WHATSAPP_NUMBER),
            "phone_number_id": _WA_PHONE_ID,
        },
    }
    if messages:
        value["contacts"] = [
            {"profile": {"name": "Ana"}, "wa_id": m.get("from", "")} for m in messages[:1]
        ]
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    entry = {"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}
    return _json({"object": "whatsapp_business_account", "entry": [entry]})


def whatsapp_text(sender: str, mid: str, text: str, stamp: str = "1767268800") -> dict[str, Any]:
    """One text message as the Cloud API lists it."""
    return {
        "from": digits(sender),
        "id": mid,
        "timestamp": stamp,
        "text": {"body": text},
        "type": "text",
    }


def whatsapp_signed(body: bytes, key: str = WHATSAPP_KEY) -> Sample:
    """A POST to /webhooks/whatsapp signed as Meta signs it."""
    signature = whatsapp.signature(key, body)
    return Sample("POST", "/webhooks/whatsapp", JSON | {whatsapp.HEADER: signature}, body)


@provider_sample(
    "whatsapp",
    number=WHATSAPP_NUMBER,
    channel="whatsapp",
    key=WHATSAPP_KEY,
    section={
        "app_secret": WHATSAPP_KEY,
        "verify_token": _WA_VERIFY_TOKEN,
        "phone_numbers": {_WA_PHONE_ID: WHATSAPP_NUMBER},
    },
    proof=(whatsapp.HEADER,),
)
def _whatsapp(
    key: str, text: str, sender: str, to: str, mid: str, now: datetime, ts: str, v: str
) -> Sample:
    # Meta lists the receiving number by its id; an unmapped id falls back to the display one.
    body = whatsapp_body([whatsapp_text(sender, mid, text, ts)], to)
    if to != WHATSAPP_NUMBER:
        body = body.replace(_WA_PHONE_ID.encode(), b"999999999999999", 1)
    return whatsapp_signed(body, key)
