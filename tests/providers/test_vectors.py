"""Every test vector of the provider reference: official SDK vectors, and derived ones
(computed from the documented algorithm) kept as regression vectors."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from app.providers import android_sms_gateway, bird, jwt, messagebird, plivo, sinch, twilio, vonage
from app.providers.base import Defaults, Rejected, WebhookRequest
from app.providers.messagebird import MessageBird
from app.providers.telnyx import Telnyx
from app.providers.vonage_messages import VonageMessages

TWILIO_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
TWILIO_PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+14158675309"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (TWILIO_URL, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        ("https://mycompany.com:443/myapp.php?foo=1&bar=2", "kvajT1Ptam85bY51eRf/AJRuM3w="),
        ("http://mycompany.com:80/myapp.php?foo=1&bar=2", "0ZXoZLH/DfblKGATFgpif+LLRf4="),
        ("http://mycompany.com:1234/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
    ],
)
def test_twilio_official_vectors(url, expected):
    assert twilio.signature("12345", url, TWILIO_PARAMS) == expected


def test_twilio_accepts_the_unported_signature_for_a_ported_url():
    variants = twilio.url_variants("https://mycompany.com:443/myapp.php?foo=1&bar=2")
    signatures = {twilio.signature("12345", u, TWILIO_PARAMS) for u in variants}
    assert "RSOYDt4T1cUTdK1PDd93/VVr8B8=" in signatures


def test_twilio_official_vector_with_repeated_parameters():
    params = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234")]
    assert twilio.signature("12345", TWILIO_URL, params) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="


def test_twilio_official_vector_for_a_json_body():
    body = b'{"property": "value", "boolean": true}'
    digest = hashlib.sha256(body).hexdigest()
    assert digest == "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
    url = TWILIO_URL + "&bodySHA256=" + digest
    assert twilio.signature("12345", url, []) == "a9nBmqA0ju/hNViExpshrM61xv4="


VONAGE_PARAMS = {
    "message-timestamp": "2013-11-21 15:27:30",
    "messageId": "020000001B0FE827",
    "msisdn": "14843472194",
    "text": "Test again",
    "timestamp": "1385047698",
    "to": "13239877404",
    "type": "text",
}


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("md5hash", "d2e7b1dc968737c5998ad624e02f90b7"),
        ("md5", "DDEBD46008C2D4E93CCE578A332A52D5"),
        ("sha1", "27D0D05C2876C7CB1720DBCDBA4D492E1E55C09A"),
        ("sha256", "DDB8397C2B90AAC7F3882D306475C9A5058C92322EEF43C92B298B6E0FC0D330"),
        (
            "sha512",
            "E0D3C650F8C9D1A5C174D10DDDBFB003E561F59B265616208B0487C5D819481C"
            "D3C311D59CF6165ECD1139622D5BA3A256C0D763AC4A9AD9144B5A426B94FE82",
        ),
    ],
)
def test_vonage_official_vectors(method, expected):
    assert vonage.signature("my_secret_key_for_testing", VONAGE_PARAMS, method) == expected.lower()


@pytest.mark.parametrize("value", ["_", "&", "="])
def test_vonage_reads_ampersand_and_equals_in_values_as_underscore(value):
    assert (
        vonage.signature("my_secret_key_for_testing", {"k": value})
        == "c3d6a686ab9c7e7408bb1c0506e9629a"
    )


def test_vonage_older_sdk_vector():
    params = {"a": "1", "b": "2", "timestamp": "1461605396"}
    assert vonage.signature("secret", params) == "6af838ef94998832dbfc29020b564830"


def test_vonage_accepts_an_uppercase_hmac_as_sent_by_its_sdks():
    adapter = vonage.Vonage("my_secret_key_for_testing", "sha1", 10**10, Defaults("https://x"))
    params = VONAGE_PARAMS | {"sig": "27D0D05C2876C7CB1720DBCDBA4D492E1E55C09A"}
    request = WebhookRequest(
        "POST", "https://x/", {"content-type": "application/json"}, json.dumps(params).encode()
    )
    adapter.verify(request, datetime.fromtimestamp(1385047698, UTC))


VONAGE_JWT = (
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJPbmxpbmUgSldUIEJ1aWxkZXIiLCJpYXQiOjE2OTc2"
    "MzQ2ODAsImV4cCI6MzMyNTQ1NDA4MjgsImF1ZCI6IiIsInN1YiI6IiJ9.88vJc3I2HhuqEDixHXVhc9R30tA6U_HQHZ"
    "TC29y6CGM"
)


def test_vonage_messages_official_jwt_vector():
    claims = jwt.verify(VONAGE_JWT, b"qwertyuiopasdfghjklzxcvbnm123456", ("HS256",))
    assert claims["iat"] == 1697634680
    with pytest.raises(Rejected):
        jwt.verify(VONAGE_JWT, b"asdf", ("HS256",))


def test_vonage_messages_refuses_the_official_token_for_lacking_payload_hash():
    adapter = VonageMessages("qwertyuiopasdfghjklzxcvbnm123456", 300, Defaults("https://x"))
    request = WebhookRequest("POST", "https://x/", {"authorization": "Bearer " + VONAGE_JWT}, b"{}")
    with pytest.raises(Rejected, match="payload_hash"):
        adapter.verify(request, datetime.fromtimestamp(1697634680, UTC))


def test_vonage_messages_derived_payload_hash_vector():
    body = b'{"channel":"sms","text":"VERIFY 7K3M9Q"}'
    token = jwt.sign(
        {"iat": 1700000000, "payload_hash": hashlib.sha256(body).hexdigest()},
        b"qwertyuiopasdfghjklzxcvbnm123456",
    )
    adapter = VonageMessages("qwertyuiopasdfghjklzxcvbnm123456", 300, Defaults("https://x"))
    request = WebhookRequest("POST", "https://x/", {"authorization": "Bearer " + token}, body)
    adapter.verify(request, datetime.fromtimestamp(1700000100, UTC))


@pytest.mark.parametrize(
    ("url", "nonce", "token", "expected"),
    [
        (
            "https://answer.url",
            "12345",
            "my_auth_token",
            "ehV3IKhLysWBxC1sy8INm0qGoQYdYsHwuoKjsX7FsXc=",
        ),
        (
            "https://answer.url:8000",
            "24725744043720739450",
            "my_auth_token",
            "LDphWoWimP4QM5AoWI1uwP6WmlWtt5ITPZjXIWYvCNU=",
        ),
        (
            "https://answer.url:8080",
            "123456",
            "my_auth_tokens",
            "xeV6S6BPIQJ/rgKCjCm/Fo2ve5zNe1fatQoHyRT8vxQ=",
        ),
    ],
)
def test_plivo_v2_official_vectors(url, nonce, token, expected):
    assert plivo.v2_signature(token, url, nonce) == expected


PLIVO_PARAMS = [
    ("From", "14155550100"),
    ("To", "14155550199"),
    ("Text", "CODE 123456"),
    ("Type", "sms"),
    ("MessageUUID", "2a1c2b5e-0000-0000-0000-000000000000"),
]


def test_plivo_v3_derived_post_vector():
    url = "https://example.com/plivo/sms?tenant=a"
    assert plivo.v3_string(url, "POST", PLIVO_PARAMS) == (
        "https://example.com/plivo/sms?tenant=a.From14155550100MessageUUID2a1c2b5e-0000-0000-0000-"
        "000000000000TextCODE 123456To14155550199Typesms"
    )
    expected = "d6nhnLTWLdwfXe/LhPVXf50i+MYKylBCcUIyOJveq8g="
    assert plivo.v3_signature("my_auth_token", url, "POST", PLIVO_PARAMS, "12345") == expected


def test_plivo_v3_derived_get_vector():
    url = "https://example.com/plivo/sms?tenant=a"
    expected = "T1jG/jvFpK8g9AuyDr1S6bSGahd5uxk8JuM6/T36ecY="
    assert plivo.v3_signature("my_auth_token", url, "GET", PLIVO_PARAMS, "12345") == expected


TELNYX_BODY = (
    b'{"data":{"event_type":"message.received","id":"b301ed3f-1490-491f-995f-6e64e69674d4",'
    b'"payload":{"from":{"phone_number":"+13125550001"},"id":"84cca175-9755-4859-b67f-4730d7f58aa3"'
    b',"text":"Hello","to":[{"phone_number":"+13125550002"}]},"record_type":"event"}}'
)
TELNYX_SIGNATURE = (
    "LYHbtS9rx6lQMp3d1nN9sePQoZUYGiKb5jU1jNv6FWJI9fnjc4fGdYObhdM4WLtH5mkhM8NkJ/fkpjT6ZMJoDA=="
)


def test_telnyx_derived_vector_with_the_rfc8032_key():
    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    key = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    assert base64.b64encode(public).decode() == "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
    assert base64.b64encode(key.sign(b"1700000000|" + TELNYX_BODY)).decode() == TELNYX_SIGNATURE
    adapter = Telnyx.from_settings(
        {"public_key": "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="}, Defaults("https://x")
    )
    headers = {"telnyx-signature-ed25519": TELNYX_SIGNATURE, "telnyx-timestamp": "1700000000"}
    request = WebhookRequest("POST", "https://x/", headers, TELNYX_BODY)
    adapter.verify(request, datetime.fromtimestamp(1700000000, UTC))
    with pytest.raises(Rejected):
        adapter.verify(request, datetime.fromtimestamp(1700000000 + 301, UTC))


MB_KEY = "36efdd1aace2e26cd490f0d951138253bef2f7c6d34d18981da781555cc4cebb"
MB_NOW = datetime.fromtimestamp(1625479200, UTC)
MB_NO_BODY = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCwiZXhw"
    "IjoxNjI1NDc5MjYwLCJqdGkiOiI1OWEyNDRkYy1lOWFkLTRlMjMtOTc3OC0zNzFmYWEyMzhmNzIiLCJ1cmxfaGFzaCI6"
    "IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc4M2U5ZDcifQ.6F"
    "p0rVOsRr1fj9S2GidXAfkmPVofKr8_RTffC6G6r2E"
)
MB_WITH_BODY = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCwiZXhw"
    "IjoxNjI1NDc5MjYwLCJqdGkiOiI5M2U1NTAwNi1hMGU4LTQ1MjYtYTE5MC1mYTVmZjAwZWExMTYiLCJ1cmxfaGFzaCI6"
    "IjQxZjA1ZjBkZGQwYTIyYWIyMDlhYzQ2ZjQ3YzQ1NzJkOWNlZmEyNTdlZDc0YjI0MDA0YmFlNzUzZWNlNmMyNjAiLCJw"
    "YXlsb2FkX2hhc2giOiJkZmZkNjAyMWJiMmJkNWIwYWY2NzYyOTA4MDllYzNhNTMxOTFkZDgxYzdmNzBhNGIyODY4OGEz"
    "NjIxODI5ODZmIn0._H--TOuYFLpeEH39-rg5E3IHVkjHozBcaKVWPRC5m9I"
)


def mb_verify(token: str, url: str, body: bytes, now: datetime = MB_NOW) -> None:
    adapter = MessageBird({"signing_key": MB_KEY, "number": "+14155550100"}, Defaults("https://x"))
    headers = {messagebird.HEADER.lower(): token}
    adapter.verify(WebhookRequest("POST", url, headers, body), now)


def test_messagebird_official_vector_without_body():
    mb_verify(MB_NO_BODY, "https://example.com/", b"")


def test_messagebird_official_vector_with_body_and_query():
    mb_verify(MB_WITH_BODY, "https://example.com/path?bar=1&foo=2", b"Hello, World!")


@pytest.mark.parametrize(
    ("token", "url", "body", "now"),
    [
        (MB_WITH_BODY, "https://example.com/path?foo=2&bar=1", b"Hello, World!", MB_NOW),
        (MB_WITH_BODY, "https://example.com/path?bar=1&foo=2", b"Hello, World?", MB_NOW),
        (MB_NO_BODY, "https://example.com/", b"a body", MB_NOW),
        (MB_NO_BODY, "https://example.com/", b"", datetime.fromtimestamp(1625479260 + 2, UTC)),
        (MB_NO_BODY, "https://example.com/", b"", datetime.fromtimestamp(1625479200 - 2, UTC)),
    ],
    ids=["reordered-query", "other-body", "unexpected-body", "expired", "not-yet-valid"],
)
def test_messagebird_official_negative_cases(token, url, body, now):
    with pytest.raises(Rejected):
        mb_verify(token, url, body, now)


def test_messagebird_refuses_an_unsigned_alg_none_token():
    header = jwt.b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = MB_NO_BODY.split(".")[1]
    with pytest.raises(Rejected):
        mb_verify(f"{header}.{payload}.", "https://example.com/", b"")
    with pytest.raises(Rejected):
        mb_verify(f"{header}.{payload}.x", "https://example.com/", b"")


def test_bird_derived_vector():
    body = b'{"service":"channels","event":"sms.inbound"}'
    expected = "SQoEPWf3ybzEOj80idKSxYlNmmsHAXeKk74axJzC6yo="
    assert (
        bird.signature("secureSigningKey", "1700000000", "https://example.com/webhooks/bird", body)
        == expected
    )


def test_sinch_official_vector():
    body = (
        b'{"app_id":"01EB37HMH1M6SV18BSNS3G135H","accepted_time":"2020-11-17T15:09:11.659Z",'
        b'"project_id":"c36f3d3d-1513-2edd-ae42-11995557ff61","message_delivery_report":'
        b'{"message_id":"01EQBC1A3BEK731GY4YXEN0C2R","conversation_id":"01EPYATA64TMNZ1FV02JKF12JF",'
        b'"status":"QUEUED_ON_CHANNEL","contact_id":"01EXA07N79THJ20WSN6AS30TMW"}}'
    )
    signature = sinch.signature("foo_secret1234", body, "01FJA8B4A7BM43YGWSG9GBV067", "1634579353")
    assert signature == "Yc+3R1pIS78xLASybulhs8BsSo9BPB3Pr92QCUoczfk="


def test_android_sms_gateway_derived_vector():
    body = (
        b'{"deviceId":"0000000019c2d7bf00000195d216644c","event":"sms:received",'
        b'"id":"JorVFMxcS2p4bHCfOGxT9","payload":{"message":"Android is always a sweet treat!",'
        b'"receivedAt":"2025-04-15T11:54:28.000+07:00","messageId":"7bb6b5e7",'
        b'"phoneNumber":"6505551212","simNumber":1},"webhookId":"kDMXGXUeNs_-d2HZ3unHT"}'
    )
    assert android_sms_gateway.signature("test-signing-key", body, "1744692868") == (
        "a145419e0f3c5d13e8ffc131595e4464b84c6f6233d6f821c41ffab3c4bb6b1e"
    )


def twilio_request(url: str, signature: str) -> WebhookRequest:
    from urllib.parse import urlencode

    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": signature,
    }
    return WebhookRequest("POST", url, headers, urlencode(TWILIO_PARAMS).encode())


@pytest.mark.parametrize(
    "url",
    [
        TWILIO_URL,
        "https://mycompany.com:443/myapp.php?foo=1&bar=2",
        "https://mycompany.com:1234/myapp.php?foo=1&bar=2",
    ],
)
def test_twilio_adapter_accepts_the_official_signature_with_or_without_a_port(url):
    adapter = twilio.Twilio("12345", None, Defaults("https://mycompany.com"))
    # The official vector is a voice call: its signature passes, then the check that an SMS
    # webhook's parameters read one way only refuses it for lacking the message fields.
    with pytest.raises(Rejected, match="ambiguous_parameters"):
        adapter.verify(twilio_request(url, "RSOYDt4T1cUTdK1PDd93/VVr8B8="), datetime.now(UTC))
    with pytest.raises(Rejected, match="bad_signature"):
        adapter.verify(twilio_request(url, "RSOYDt4T1cUTdK1PDd93/VVr8B9="), datetime.now(UTC))


def test_twilio_adapter_refuses_another_messaging_service():
    adapter = twilio.Twilio("12345", None, Defaults("https://x"), service_sid="MG1")
    with pytest.raises(Rejected, match="wrong_messaging_service"):
        adapter.verify(
            twilio_request(TWILIO_URL, "RSOYDt4T1cUTdK1PDd93/VVr8B8="), datetime.now(UTC)
        )
