"""Each sender: the exact request it makes, how it classifies answers, and its receipts
(with their signature or token check), at the requests-mock edge of app/outbound.py."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode

import pytest
import requests
from twilio.request_validator import RequestValidator

from app.providers.base import Rejected, SettingsError, WebhookRequest
from app.senders import REGISTRY, build
from app.senders.base import Outgoing, Receipt, SendFailed
from app.senders.transport import Transport

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
TO = "+33612345678"
RECEIPTS = "https://otp.example.com/receipts"
MESSAGE = Outgoing(TO, "Your code is 123456\n\n@otp.example.com #123456", "snd_1", "")


def public(host: str, port: int) -> list[str]:
    return ["93.184.216.34"]


def transport() -> Transport:
    return Transport(resolver=public)


def webhook(
    url: str, body: bytes = b"", headers: dict[str, str] | None = None, method: str = "POST",
    token: str | None = None,
) -> WebhookRequest:  # fmt: skip
    query = parse_qsl(url.partition("?")[2])
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    return WebhookRequest(method, url, lowered, body, query, path_token=token)


def form_request(url: str, fields: dict[str, str], headers: dict[str, str]) -> WebhookRequest:
    headers = headers | {"Content-Type": "application/x-www-form-urlencoded"}
    return webhook(url, urlencode(fields).encode(), headers)


# Twilio -----------------------------------------------------------------------------------

TWILIO = {
    "kind": "twilio", "name": "tw", "account_sid": "AC" + "a" * 32,
    "auth_token": "twilio-auth-token", "from": "+15005550006",
}  # fmt: skip
TWILIO_URL = f"https://api.twilio.com/2010-04-01/Accounts/AC{'a' * 32}/Messages.json"


class TestTwilio:
    def sender(self):
        return build([TWILIO])[0]

    def test_posts_the_message_resource_with_basic_auth(self, requests_mock):
        requests_mock.post(TWILIO_URL, status_code=201, json={"sid": "SM" + "1" * 32})
        message = Outgoing(TO, "code 123456", "snd_1", RECEIPTS + "/tw")
        accepted = transport().send(self.sender(), message)
        assert accepted.provider_id == "SM" + "1" * 32
        sent = requests_mock.last_request
        assert sent.method == "POST"
        assert dict(parse_qsl(sent.text)) == {
            "To": TO, "Body": "code 123456", "From": "+15005550006",
            "StatusCallback": RECEIPTS + "/tw",
        }  # fmt: skip
        expected = base64.b64encode(f"AC{'a' * 32}:twilio-auth-token".encode()).decode()
        assert sent.headers["Authorization"] == f"Basic {expected}"

    @pytest.mark.parametrize(
        ("status", "body", "reason", "retryable"),
        [
            (400, {"code": 21211, "message": "Invalid 'To'"}, "twilio_21211", False),
            (401, {"code": 20003, "message": "Authenticate"}, "twilio_20003", False),
            (429, {"code": 20429, "message": "Too Many Requests"}, "twilio_20429", True),
            (503, "<html>down</html>", "http_503", True),
            (201, {"status": "queued"}, "unreadable_answer", True),
        ],
    )
    def test_classifies_failures(self, requests_mock, status, body, reason, retryable):
        kwargs = {"json": body} if isinstance(body, dict) else {"text": body}
        requests_mock.post(TWILIO_URL, status_code=status, **kwargs)
        with pytest.raises(SendFailed) as failed:
            transport().send(self.sender(), MESSAGE)
        assert (failed.value.reason, failed.value.retryable) == (reason, retryable)

    def test_network_failure_is_retryable(self, requests_mock):
        requests_mock.post(TWILIO_URL, exc=requests.ConnectTimeout)
        with pytest.raises(SendFailed) as failed:
            transport().send(self.sender(), MESSAGE)
        assert failed.value.retryable

    def status_callback(self, status="delivered", token="twilio-auth-token", **extra):
        url = RECEIPTS + "/tw"
        fields = {"AccountSid": "AC" + "a" * 32, "MessageSid": "SM" + "1" * 32,
                  "MessageStatus": status, "To": TO} | extra  # fmt: skip
        signature = RequestValidator(token).compute_signature(url, fields)
        return form_request(url, fields, {"X-Twilio-Signature": signature})

    @pytest.mark.parametrize(
        ("status", "expected"),
        [
            ("delivered", "delivered"),
            ("sent", "sent"),
            ("undelivered", "failed"),
            ("failed", "failed"),
        ],
    )
    def test_reads_signed_status_callbacks(self, status, expected):
        sender, request = self.sender(), self.status_callback(status, ErrorCode="30003")
        sender.verify_receipt(request, NOW)
        assert sender.parse_receipts(request) == [Receipt("SM" + "1" * 32, expected, "30003")]

    def test_ignores_interim_statuses(self):
        request = self.status_callback("queued")
        assert self.sender().parse_receipts(request) == []

    def test_rejects_a_forged_status_callback(self):
        with pytest.raises(Rejected, match="bad_signature"):
            self.sender().verify_receipt(self.status_callback(token="guessed"), NOW)

    def test_rejects_a_tampered_status(self):
        request = self.status_callback("failed")
        tampered = request.body.replace(b"failed", b"delivered")
        forged = webhook(request.url, tampered, dict(request.headers))
        with pytest.raises(Rejected, match="bad_signature"):
            self.sender().verify_receipt(forged, NOW)


# Vonage -----------------------------------------------------------------------------------

VONAGE = {
    "kind": "vonage", "api_key": "abcd1234", "api_secret": "vonage-secret",
    "from": "ACME", "signature_secret": "vonage-signature-secret",
}  # fmt: skip
VONAGE_URL = "https://rest.nexmo.com/sms/json"


def vonage_answer(status: str, **extra: str) -> dict:
    return {"message-count": "1", "messages": [{"to": TO[1:], "status": status} | extra]}


class TestVonage:
    def sender(self):
        return build([VONAGE])[0]

    def test_posts_the_form_with_the_number_in_digits(self, requests_mock):
        requests_mock.post(VONAGE_URL, json=vonage_answer("0", **{"message-id": "0A000001"}))
        message = Outgoing(TO, "code 123456", "snd_1", RECEIPTS + "/vonage")
        assert transport().send(self.sender(), message).provider_id == "0A000001"
        assert dict(parse_qsl(requests_mock.last_request.text)) == {
            "api_key": "abcd1234", "api_secret": "vonage-secret", "from": "ACME",
            "to": "33612345678", "text": "code 123456", "client-ref": "snd_1",
            "callback": RECEIPTS + "/vonage", "status-report-req": "1",
        }  # fmt: skip

    @pytest.mark.parametrize(
        ("status", "retryable"),
        [("1", True), ("5", True), ("2", False), ("4", False), ("29", False)],
    )
    def test_classifies_the_status_of_a_200_answer(self, requests_mock, status, retryable):
        requests_mock.post(VONAGE_URL, json=vonage_answer(status, **{"error-text": "x"}))
        with pytest.raises(SendFailed) as failed:
            transport().send(self.sender(), MESSAGE)
        assert (failed.value.reason, failed.value.retryable) == (f"vonage_{status}", retryable)

    def test_server_errors_are_retryable(self, requests_mock):
        requests_mock.post(VONAGE_URL, status_code=502)
        with pytest.raises(SendFailed) as failed:
            transport().send(self.sender(), MESSAGE)
        assert failed.value.retryable

    def receipt(self, status="delivered", secret="vonage-signature-secret", stamp=None):
        fields = {
            "msisdn": TO[1:], "to": "ACME", "messageId": "0A000001", "status": status,
            "err-code": "0", "message-timestamp": "2026-01-01 12:00:00",
            "timestamp": str(stamp or int(NOW.timestamp())),
        }  # fmt: skip
        # Vonage's md5hash: "&k=v" for each sorted field, then the secret, hex MD5.
        payload = "".join(f"&{k}={v}" for k, v in sorted(fields.items())) + secret
        fields["sig"] = hashlib.md5(payload.encode()).hexdigest()
        return webhook(RECEIPTS + "/vonage?" + urlencode(fields), method="GET")

    @pytest.mark.parametrize(
        ("status", "expected"),
        [
            ("delivered", "delivered"),
            ("accepted", "sent"),
            ("expired", "failed"),
            ("rejected", "failed"),
        ],
    )
    def test_reads_signed_receipts(self, status, expected):
        sender, request = self.sender(), self.receipt(status)
        sender.verify_receipt(request, NOW)
        assert sender.parse_receipts(request) == [Receipt("0A000001", expected, "0")]

    def test_rejects_a_forged_or_stale_receipt(self):
        with pytest.raises(Rejected, match="bad_signature"):
            self.sender().verify_receipt(self.receipt(secret="guess"), NOW)
        with pytest.raises(Rejected, match="stale"):
            self.sender().verify_receipt(self.receipt(stamp=int(NOW.timestamp()) - 3600), NOW)


# LabsMobile -------------------------------------------------------------------------------

LABS = {
    "kind": "labsmobile", "username": "ops@example.com", "api_token": "labs-token",
    "tpoa": "ACME", "receipt_token": "r" * 24,
}  # fmt: skip
LABS_URL = "https://api.labsmobile.com/json/send"


class TestLabsMobile:
    def sender(self):
        return build([LABS])[0]

    def test_posts_json_with_basic_auth(self, requests_mock):
        requests_mock.post(LABS_URL, json={"code": "0", "message": "ok", "subid": "65f33a88"})
        message = Outgoing(TO, "code 123456", "snd_1", RECEIPTS + "/labsmobile/" + "r" * 24)
        assert transport().send(self.sender(), message).provider_id == "65f33a88"
        sent = requests_mock.last_request
        assert sent.json() == {
            "message": "code 123456", "recipient": [{"msisdn": "33612345678"}], "tpoa": "ACME",
            "ackurl": RECEIPTS + "/labsmobile/" + "r" * 24, "acklevel": "handset",
        }  # fmt: skip
        expected = base64.b64encode(b"ops@example.com:labs-token").decode()
        assert sent.headers["Authorization"] == f"Basic {expected}"

    @pytest.mark.parametrize(
        ("status", "body", "reason", "retryable"),
        [
            (200, {"code": "35", "message": "not enough credits"}, "labsmobile_35", False),
            (200, {"code": "21", "message": "empty message"}, "labsmobile_21", False),
            (500, {}, "http_500", True),
            (200, "not json", "unreadable_answer", True),
        ],
    )
    def test_classifies_failures(self, requests_mock, status, body, reason, retryable):
        kwargs = {"json": body} if isinstance(body, dict) else {"text": body}
        requests_mock.post(LABS_URL, status_code=status, **kwargs)
        with pytest.raises(SendFailed) as failed:
            transport().send(self.sender(), MESSAGE)
        assert (failed.value.reason, failed.value.retryable) == (reason, retryable)

    def ack(self, token, **fields):
        query = {"acklevel": "handset", "msisdn": TO[1:], "status": "ok", "desc": "",
                 "subid": "65f33a88", "timestamp": "2026-01-01 12:00:00"} | fields  # fmt: skip
        return webhook(RECEIPTS + "/labsmobile?" + urlencode(query), method="GET", token=token)

    def test_reads_acks_behind_the_receipt_token(self):
        sender = self.sender()
        for fields, status in [({}, "delivered"), ({"acklevel": "gateway"}, "sent"),
                               ({"status": "ko", "desc": "bad number"}, "failed")]:  # fmt: skip
            request = self.ack("r" * 24, **fields)
            sender.verify_receipt(request, NOW)
            assert [r.status for r in sender.parse_receipts(request)] == [status]

    @pytest.mark.parametrize("token", [None, "r" * 23, "x" * 24])
    def test_rejects_acks_without_the_token(self, token):
        with pytest.raises(Rejected):
            self.sender().verify_receipt(self.ack(token), NOW)

    def test_refuses_settings_without_a_receipt_token(self):
        with pytest.raises(SettingsError, match="receipt_token"):
            build([{k: v for k, v in LABS.items() if k != "receipt_token"}])


# android-sms-gateway ----------------------------------------------------------------------

ANDROID = {
    "kind": "android-sms-gateway", "username": "sms", "password": "gw-pass",
    "signing_key": "test-signing-key",
}  # fmt: skip
ANDROID_URL = "https://api.sms-gate.app/3rdparty/v1/messages"


class TestAndroidSmsGateway:
    def sender(self, **extra):
        return build([ANDROID | extra])[0]

    def test_posts_a_text_message_with_delivery_report(self, requests_mock):
        requests_mock.post(
            ANDROID_URL, status_code=202, json={"id": "PyDmBQZZXYmyxMwED8Fzy", "state": "Pending"}
        )
        assert transport().send(self.sender(), MESSAGE).provider_id == "PyDmBQZZXYmyxMwED8Fzy"
        sent = requests_mock.last_request
        assert sent.json() == {
            "phoneNumbers": [TO],
            "textMessage": {"text": MESSAGE.text},
            "withDeliveryReport": True,
        }
        assert sent.headers["Authorization"] == "Basic " + base64.b64encode(b"sms:gw-pass").decode()

    def test_local_server_on_the_lan_needs_allow_private(self, requests_mock):
        lan = {"base_url": "http://192.168.1.20:8080"}
        requests_mock.post("http://192.168.1.20:8080/messages", status_code=202, json={"id": "x1"})
        lan_transport = Transport(resolver=lambda host, port: ["192.168.1.20"])
        with pytest.raises(SendFailed) as failed:
            lan_transport.send(self.sender(**lan), MESSAGE)
        assert (failed.value.reason, failed.value.retryable) == ("forbidden_destination", False)
        assert not requests_mock.called
        assert (
            lan_transport.send(self.sender(**lan, allow_private=True), MESSAGE).provider_id == "x1"
        )

    @pytest.mark.parametrize(
        ("status", "body", "retryable"),
        [(400, {"message": "invalid phone"}, False), (401, {}, False), (502, {}, True),
         (202, {"id": "x", "state": "Failed"}, False)],
    )  # fmt: skip
    def test_classifies_failures(self, requests_mock, status, body, retryable):
        requests_mock.post(ANDROID_URL, status_code=status, json=body)
        with pytest.raises(SendFailed) as failed:
            transport().send(self.sender(), MESSAGE)
        assert failed.value.retryable is retryable

    def event(self, event, key="test-signing-key", stamp=None):
        body = json.dumps({
            "deviceId": "0000000019c2d7bf", "event": event, "id": "Ev1", "webhookId": "wh1",
            "payload": {"messageId": "PyDmBQZZXYmyxMwED8Fzy", "phoneNumber": TO,
                        "deliveredAt": "2026-01-01T12:00:01.000+00:00"},
        }).encode()  # fmt: skip
        stamp = str(stamp or int(NOW.timestamp()))
        sig = hmac.new(key.encode(), body + stamp.encode(), hashlib.sha256).hexdigest()
        headers = {"X-Signature": sig, "X-Timestamp": stamp, "Content-Type": "application/json"}
        return webhook(RECEIPTS + "/android-sms-gateway", body, headers)

    @pytest.mark.parametrize(
        ("event", "status"),
        [("sms:sent", "sent"), ("sms:delivered", "delivered"), ("sms:failed", "failed")],
    )
    def test_reads_signed_events(self, event, status):
        sender, request = self.sender(), self.event(event)
        sender.verify_receipt(request, NOW)
        assert [(r.provider_id, r.status) for r in sender.parse_receipts(request)] == [
            ("PyDmBQZZXYmyxMwED8Fzy", status)
        ]

    def test_rejects_forged_or_replayed_events(self):
        with pytest.raises(Rejected, match="bad_signature"):
            self.sender().verify_receipt(self.event("sms:delivered", key="guess"), NOW)
        old = self.event("sms:delivered", stamp=int(NOW.timestamp()) - 3600)
        with pytest.raises(Rejected, match="stale"):
            self.sender().verify_receipt(old, NOW)


# SMSGateway24 -----------------------------------------------------------------------------

SG24 = {
    "kind": "smsgateway24", "token": "sg24-token", "device_id": "4242",
    "receipt_token": "s" * 24,
}  # fmt: skip
SG24_URL = "https://smsgateway24.com/getdata/addsms"


class TestSmsGateway24:
    def sender(self):
        return build([SG24])[0]

    def test_posts_addsms_as_urgent(self, requests_mock):
        requests_mock.post(SG24_URL, json={"error": 0, "message": "OK", "sms_id": 77})
        assert transport().send(self.sender(), MESSAGE).provider_id == "77"
        assert dict(parse_qsl(requests_mock.last_request.text)) == {
            "token": "sg24-token", "sendto": TO, "body": MESSAGE.text, "device_id": "4242",
            "urgent": "1",
        }  # fmt: skip

    @pytest.mark.parametrize(
        ("status", "body", "retryable"),
        [
            (200, {"error": 1, "message": "bad token"}, False),
            (500, {}, True),
            (200, {"error": 0}, True),
        ],
    )
    def test_classifies_failures(self, requests_mock, status, body, retryable):
        requests_mock.post(SG24_URL, status_code=status, json=body)
        with pytest.raises(SendFailed) as failed:
            transport().send(self.sender(), MESSAGE)
        assert failed.value.retryable is retryable

    def status(self, code, token):
        body = json.dumps({"sms_id": 77, "status_id": code, "status_message": "x",
                           "sendto": TO, "device_id": 4242}).encode()  # fmt: skip
        return webhook(RECEIPTS + "/sg24", body, {"Content-Type": "application/json"}, token=token)

    @pytest.mark.parametrize(
        ("code", "status"), [(6, "sent"), (7, "delivered"), (8, "failed"), (9, "failed")]
    )
    def test_reads_status_webhooks_behind_the_token(self, code, status):
        sender, request = self.sender(), self.status(code, "s" * 24)
        sender.verify_receipt(request, NOW)
        assert [(r.provider_id, r.status) for r in sender.parse_receipts(request)] == [
            ("77", status)
        ]

    def test_ignores_queue_states_and_rejects_a_wrong_token(self):
        assert self.sender().parse_receipts(self.status(2, "s" * 24)) == []
        with pytest.raises(Rejected):
            self.sender().verify_receipt(self.status(7, "guess" * 5), NOW)


# Registry ---------------------------------------------------------------------------------


def test_every_kind_is_registered_and_has_a_test_class():
    tested = {"twilio", "vonage", "labsmobile", "android-sms-gateway", "smsgateway24", "email"}
    assert set(REGISTRY) == tested


def test_refuses_unknown_kinds_and_duplicate_names():
    with pytest.raises(SettingsError, match="kind"):
        build([{"kind": "carrier-pigeon"}])
    with pytest.raises(SettingsError, match="named"):
        build([TWILIO, TWILIO])


def test_missing_credentials_are_named():
    with pytest.raises(SettingsError, match=r"senders\.tw\.auth_token"):
        build([{k: v for k, v in TWILIO.items() if k != "auth_token"}])
