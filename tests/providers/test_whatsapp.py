"""WhatsApp through the Meta Cloud API and through Twilio: the handshake, the signature over the
raw body, batches, status notifications, channels on numbers and challenges, and every
malformed or hostile request answered with a 4xx or an acknowledgement, never a 5xx."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

import pytest

from app.providers import twilio, whatsapp
from tests.conftest import AUTH, PUBLIC_URL
from tests.providers.helpers import challenge, new_challenge
from tests.providers.samples import (
    SAMPLES,
    SENDER,
    Sample,
    twilio_sid,
    whatsapp_body,
    whatsapp_signed,
    whatsapp_text,
)

WHATSAPP = SAMPLES["whatsapp"]
NUMBER = WHATSAPP.number
VERIFY_TOKEN = WHATSAPP.section["verify_token"]
TWILIO = SAMPLES["twilio"]
OTHER_SENDER = "+33612345670"
# One number receiving SMS through Twilio and WhatsApp through Meta.
BOTH = [
    {"number": NUMBER, "provider": "twilio", "channel": "sms"},
    {"number": NUMBER, "provider": "whatsapp", "channel": "whatsapp"},
]


def handshake(client: Any, **query: str) -> Any:
    return client.get("/webhooks/whatsapp?" + urlencode(query))


def text_request(body: str, mid: str = "wamid.A1", sender: str = SENDER) -> Sample:
    return whatsapp_signed(whatsapp_body([whatsapp_text(sender, mid, body)]))


def twilio_whatsapp(text: str, sender: str, to: str, mid: str) -> Sample:
    sid = twilio_sid(mid)
    fields = {
        "AccountSid": "AC" + "0" * 32,
        "Body": text,
        "From": "whatsapp:" + sender,
        "MessageSid": sid,
        "NumMedia": "0",
        "ProfileName": "Ana",
        "SmsMessageSid": sid,
        "SmsSid": sid,
        "To": "whatsapp:" + to,
        "WaId": sender.lstrip("+"),
    }
    signature = twilio.signature(TWILIO.key, PUBLIC_URL + "/webhooks/twilio", [*fields.items()])
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
    return Sample("POST", "/webhooks/twilio", headers, urlencode(fields).encode())


@pytest.fixture
def client(make_app):
    return make_app("whatsapp").test_client()


# The handshake


def test_handshake_answers_the_challenge_with_the_right_verify_token(client):
    answer = handshake(
        client, **{"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN,
                   "hub.challenge": "1158201444"}
    )  # fmt: skip
    assert (answer.status_code, answer.get_data(as_text=True)) == (200, "1158201444")
    assert answer.mimetype == "text/plain"


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN + "x"},
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN[:-1]},
        {"hub.mode": "subscribe", "hub.verify_token": ""},
        {"hub.mode": "subscribe"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN},
        {"hub.verify_token": VERIFY_TOKEN},
        {},
    ],
)
def test_handshake_refuses_anything_but_the_right_token_and_mode(client, query):
    answer = handshake(client, **query, **{"hub.challenge": "1158201444"})
    assert answer.status_code == 403
    assert "1158201444" not in answer.get_data(as_text=True)


def test_handshake_is_refused_when_no_verify_token_is_configured(make_app):
    section = {"app_secret": WHATSAPP.key}
    client = make_app("whatsapp", providers={"whatsapp": section}).test_client()
    answer = handshake(client, **{"hub.mode": "subscribe", "hub.verify_token": "",
                                  "hub.challenge": "1"})  # fmt: skip
    assert answer.status_code == 403


@pytest.mark.parametrize("value", ["<script>alert(1)</script>", "", "x" * 129, "a b"])
def test_handshake_never_echoes_what_is_not_a_short_token(client, value):
    answer = handshake(
        client, **{"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN,
                   "hub.challenge": value}
    )  # fmt: skip
    assert answer.status_code == 400
    if value:
        assert value not in answer.get_data(as_text=True)


def test_handshake_with_a_body_is_refused(client):
    query = urlencode({"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN,
                       "hub.challenge": "1"})  # fmt: skip
    answer = client.open("/webhooks/whatsapp?" + query, method="GET", data=b'{"a": 1}')
    assert answer.status_code == 403


# Signature and messages


def test_signature_is_meta_s_hex_hmac_sha256_of_the_raw_body():
    # Regression vector computed with the documented algorithm (derived, not Meta's).
    assert whatsapp.signature("secret", b"test") == (
        "sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914"
    )


def test_a_signed_text_verifies_and_records_the_whatsapp_channel(client):
    created = new_challenge(client)
    assert created["channels"] == ["whatsapp"]
    assert created["whatsapp"]["uri"].startswith("https://wa.me/" + NUMBER.lstrip("+") + "?text=")
    answer = text_request(created["body"]).send(client)
    assert answer.status_code == 200
    after = challenge(client, created["id"])
    assert (after["status"], after["verified_phone"], after["channel"]) == (
        "verified",
        SENDER,
        "whatsapp",
    )
    status = client.get(f"/api/v1/status/{created['token']}").json
    assert status["channel"] == "whatsapp"


@pytest.mark.parametrize("position", [0, 40, -3, -30])
def test_one_byte_changed_is_refused_and_changes_nothing(client, position):
    created = new_challenge(client)
    genuine = text_request(created["body"])
    body = bytearray(genuine.body)
    body[position] ^= 0x01
    answer = genuine.with_body(bytes(body)).send(client)
    assert (answer.status_code, answer.get_data(as_text=True)) == (403, "forbidden\n")
    assert challenge(client, created["id"])["status"] == "pending"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "sha1=0329a06b62cd16b33eb6792be8c60b158d89a2ee",
        "0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914",
    ],
)
def test_a_missing_or_malformed_signature_header_is_refused(client, header):
    created = new_challenge(client)
    genuine = text_request(created["body"])
    headers = {k: v for k, v in genuine.headers.items() if k != whatsapp.HEADER}
    if header is not None:
        headers[whatsapp.HEADER] = header
    assert replace(genuine, headers=headers).send(client).status_code == 403
    assert challenge(client, created["id"])["status"] == "pending"


def test_the_signature_in_upper_case_hex_is_another_signature(client):
    created = new_challenge(client)
    genuine = text_request(created["body"])
    value = genuine.headers[whatsapp.HEADER]
    headers = genuine.headers | {whatsapp.HEADER: "sha256=" + value[7:].upper()}
    assert replace(genuine, headers=headers).send(client).status_code == 403


def test_a_query_string_beside_a_signed_body_is_refused(client):
    created = new_challenge(client)
    genuine = text_request(created["body"])
    answer = replace(genuine, path=genuine.path + "?from=33600000000").send(client)
    assert answer.status_code == 403
    assert challenge(client, created["id"])["status"] == "pending"


def test_the_same_message_id_twice_has_one_effect(client):
    created = new_challenge(client, phone="+33612345679")
    wrong_sender = text_request(created["body"], mid="wamid.SAME")
    first, second = wrong_sender.send(client), wrong_sender.send(client)
    assert (first.status_code, second.status_code) == (200, 200)
    assert challenge(client, created["id"])["attempts"] == 1


def test_a_verifying_message_delivered_twice_verifies_once(client):
    created = new_challenge(client)
    request = text_request(created["body"], mid="wamid.TWICE")
    assert request.send(client).status_code == 200
    first = challenge(client, created["id"])
    assert request.send(client).status_code == 200
    assert challenge(client, created["id"]) == first


def test_status_notifications_are_acknowledged_and_ignored(client):
    created = new_challenge(client)
    statuses = [
        {"id": "wamid.S1", "status": status, "timestamp": "1767268800", "recipient_id": "1"}
        for status in ("sent", "delivered", "read")
    ]
    answer = whatsapp_signed(whatsapp_body([], statuses=statuses)).send(client)
    assert answer.status_code == 200
    assert challenge(client, created["id"])["status"] == "pending"


@pytest.mark.parametrize(
    "message",
    [
        {"type": "image", "image": {"id": "1", "caption": "CODE"}},
        {"type": "reaction", "reaction": {"emoji": "👍"}},
        {"type": "unsupported"},
        {"type": "button", "button": {"text": "CODE"}},
    ],
)
def test_other_message_types_are_acknowledged_and_ignored(client, message):
    created = new_challenge(client)
    full = {"from": SENDER.lstrip("+"), "id": "wamid.T", "timestamp": "1"} | message
    if "caption" in json.dumps(message):
        full["image"]["caption"] = created["body"]
    answer = whatsapp_signed(whatsapp_body([full])).send(client)
    assert answer.status_code == 200
    assert challenge(client, created["id"])["status"] == "pending"


def test_each_message_of_a_batch_is_handled(client):
    one, two = new_challenge(client), new_challenge(client)
    body = whatsapp_body(
        [
            whatsapp_text(SENDER, "wamid.B1", one["body"]),
            {"from": "1", "id": "wamid.B2", "type": "image", "image": {"id": "9"}},
            whatsapp_text(OTHER_SENDER, "wamid.B3", two["body"]),
        ]
    )
    assert whatsapp_signed(body).send(client).status_code == 200
    assert challenge(client, one["id"])["verified_phone"] == SENDER
    assert challenge(client, two["id"])["verified_phone"] == OTHER_SENDER


def test_messages_across_several_entries_are_each_handled(client):
    one, two = new_challenge(client), new_challenge(client)
    first = json.loads(whatsapp_body([whatsapp_text(SENDER, "wamid.E1", one["body"])]))
    second = json.loads(whatsapp_body([whatsapp_text(OTHER_SENDER, "wamid.E2", two["body"])]))
    first["entry"] += second["entry"]
    assert whatsapp_signed(json.dumps(first).encode()).send(client).status_code == 200
    assert challenge(client, one["id"])["status"] == "verified"
    assert challenge(client, two["id"])["status"] == "verified"


def test_a_huge_batch_is_refused_whole_and_changes_nothing(client):
    created = new_challenge(client)
    texts = [whatsapp_text(OTHER_SENDER, f"wamid.H{i}", "hello") for i in range(100)]
    texts.append(whatsapp_text(SENDER, "wamid.Hlast", created["body"]))
    answer = whatsapp_signed(whatsapp_body(texts)).send(client)
    assert answer.status_code == 400
    assert "at most 100" in answer.json["error"]["message"]
    assert challenge(client, created["id"])["status"] == "pending"


def test_a_large_batch_of_statuses_is_acknowledged(client):
    statuses = [{"id": f"wamid.S{i}", "status": "read"} for i in range(1000)]
    assert whatsapp_signed(whatsapp_body([], statuses=statuses)).send(client).status_code == 200


def test_a_batch_over_the_body_limit_is_a_413_and_changes_nothing(client):
    created = new_challenge(client)
    statuses = [{"id": f"wamid.S{i}", "status": "read"} for i in range(5000)]
    body = whatsapp_body([whatsapp_text(SENDER, "wamid.L", created["body"])], statuses=statuses)
    assert whatsapp_signed(body).send(client).status_code == 413
    assert challenge(client, created["id"])["status"] == "pending"


def test_the_sender_budget_applies_to_a_batch(make_app):
    client = make_app("whatsapp", limits={"sender_failures": "2/hour"}).test_client()
    created = new_challenge(client)
    guesses = [whatsapp_text(SENDER, f"wamid.G{i}", f"CODE {i:06d}") for i in range(5)]
    guesses.append(whatsapp_text(SENDER, "wamid.Glast", created["body"]))
    assert whatsapp_signed(whatsapp_body(guesses)).send(client).status_code == 200
    assert challenge(client, created["id"])["status"] == "pending"


MALFORMED: list[tuple[str, bytes]] = [
    ("not JSON", b"{not json"),
    ("a list", b"[]"),
    ("entry not a list", b'{"object":"whatsapp_business_account","entry":{}}'),
    ("entry item not an object", b'{"object":"whatsapp_business_account","entry":[1]}'),
    ("changes not a list", b'{"object":"whatsapp_business_account","entry":[{"changes":1}]}'),
    ("value not an object", b'{"object":"whatsapp_business_account","entry":[{"changes":'
     b'[{"field":"messages","value":[]}]}]}'),
    ("messages not a list", b'{"object":"whatsapp_business_account","entry":[{"changes":'
     b'[{"field":"messages","value":{"messages":{}}}]}]}'),
    ("message not an object", b'{"object":"whatsapp_business_account","entry":[{"changes":'
     b'[{"field":"messages","value":{"messages":["x"]}}]}]}'),
    ("too deep", b'{"a":' * 5000 + b"1" + b"}" * 5000),
    ("not UTF-8", b'{"object":"\xff\xfe"}'),
]  # fmt: skip


@pytest.mark.parametrize(("case", "body"), MALFORMED, ids=[c for c, _ in MALFORMED])
def test_a_signed_malformed_body_is_a_clear_400(client, case, body):
    answer = whatsapp_signed(body).send(client)
    assert answer.status_code == 400, case
    assert answer.json["error"]["code"] == "malformed_webhook"


@pytest.mark.parametrize(
    "drop", ["from", "id", "text"], ids=["no sender", "no message id", "no text"]
)
def test_a_text_message_missing_a_field_is_a_400_naming_it(client, drop):
    message = {k: v for k, v in whatsapp_text(SENDER, "wamid.M", "hi").items() if k != drop}
    answer = whatsapp_signed(whatsapp_body([message])).send(client)
    assert answer.status_code == 400
    assert "missing fields" in answer.json["error"]["message"]


@pytest.mark.parametrize("value", [None, [], {"x": 1}, True])
def test_fields_of_another_type_are_a_400(client, value):
    message = whatsapp_text(SENDER, "wamid.M", "hi") | {"from": value}
    assert whatsapp_signed(whatsapp_body([message])).send(client).status_code == 400


def test_a_sender_that_is_no_phone_number_is_acknowledged_and_verifies_nothing(client):
    created = new_challenge(client)
    message = whatsapp_text(SENDER, "wamid.M", created["body"]) | {"from": 5}
    assert whatsapp_signed(whatsapp_body([message])).send(client).status_code == 200
    assert challenge(client, created["id"])["status"] == "pending"


def test_a_nul_in_the_text_is_a_400(client):
    body = whatsapp_body([whatsapp_text(SENDER, "wamid.N", "CODE\u0000")])
    assert whatsapp_signed(body).send(client).status_code == 400


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_a_signed_body_with_another_content_type_is_a_400(client, content_type):
    created = new_challenge(client)
    genuine = text_request(created["body"])
    answer = replace(genuine, headers=genuine.headers | {"Content-Type": content_type}).send(client)
    assert answer.status_code == 400
    assert challenge(client, created["id"])["status"] == "pending"


def test_another_object_is_acknowledged_and_ignored(client):
    body = json.dumps({"object": "page", "entry": [{"messaging": []}]}).encode()
    assert whatsapp_signed(body).send(client).status_code == 200


def test_an_unmapped_phone_number_id_falls_back_to_the_display_number(client):
    created = new_challenge(client)
    body = whatsapp_body([whatsapp_text(SENDER, "wamid.D", created["body"])])
    body = body.replace(b'"phone_number_id":"106540352242922"', b'"phone_number_id":"42"')
    assert whatsapp_signed(body).send(client).status_code == 200
    assert challenge(client, created["id"])["channel"] == "whatsapp"


def test_a_message_to_a_number_we_do_not_have_changes_nothing(client):
    created = new_challenge(client)
    body = whatsapp_body([whatsapp_text(SENDER, "wamid.U", created["body"])], "+14155550199")
    body = body.replace(b'"phone_number_id":"106540352242922"', b'"phone_number_id":"42"')
    assert whatsapp_signed(body).send(client).status_code == 200
    assert challenge(client, created["id"])["status"] == "pending"


# Channels on a number and on a challenge


def test_a_number_on_both_channels_offers_both_and_either_verifies(make_app):
    client = make_app("twilio", "whatsapp", numbers=BOTH).test_client()
    by_sms, by_whatsapp = new_challenge(client), new_challenge(client)
    assert by_sms["channels"] == ["sms", "whatsapp"]
    assert by_sms["sms_uri"].startswith("sms:" + NUMBER)
    sms = twilio_sms(by_sms["body"], SENDER, NUMBER, "s-1")
    assert sms.send(client).status_code == 200
    assert text_request(by_whatsapp["body"]).send(client).status_code == 200
    assert challenge(client, by_sms["id"])["channel"] == "sms"
    assert challenge(client, by_whatsapp["id"])["channel"] == "whatsapp"


def twilio_sms(text: str, sender: str, to: str, mid: str) -> Sample:
    from tests.providers.samples import build
    from tests.providers.test_contract import NOW

    return build("twilio", text, sender, to, mid, NOW)


def test_a_challenge_offered_on_sms_only_is_not_verified_over_whatsapp(make_app):
    client = make_app("twilio", "whatsapp", numbers=BOTH).test_client()
    created = new_challenge(client, channels=["sms"])
    assert (created["channels"], created["whatsapp"]) == (["sms"], None)
    assert text_request(created["body"]).send(client).status_code == 200
    assert challenge(client, created["id"])["status"] == "pending"
    assert twilio_sms(created["body"], SENDER, NUMBER, "s-2").send(client).status_code == 200
    assert challenge(client, created["id"])["channel"] == "sms"


def test_a_challenge_offered_on_whatsapp_only_is_not_verified_by_sms(make_app):
    client = make_app("twilio", "whatsapp", numbers=BOTH).test_client()
    created = new_challenge(client, channels=["whatsapp"])
    assert created["channels"] == ["whatsapp"]
    assert twilio_sms(created["body"], SENDER, NUMBER, "s-3").send(client).status_code == 200
    assert challenge(client, created["id"])["status"] == "pending"


@pytest.mark.parametrize(
    ("channels", "code", "named"),
    [
        (["fax"], "unknown_channel", "'fax'"),
        (["sms", "telegram"], "unknown_channel", "'telegram'"),
        (["sms"], "unavailable_channel", "'sms'"),
        ([], "invalid_channels", "channels"),
    ],
)
def test_an_unknown_or_unavailable_channel_is_a_400_naming_it(client, channels, code, named):
    answer = client.post("/api/v1/challenges", json={"channels": channels}, headers=AUTH)
    assert answer.status_code == 400
    assert answer.json["error"]["code"] == code
    assert named in answer.json["error"]["message"]


@pytest.mark.parametrize("channels", ["sms", [1], [None], ["sms"] * 5])
def test_channels_of_the_wrong_shape_are_a_400(client, channels):
    answer = client.post("/api/v1/challenges", json={"channels": channels}, headers=AUTH)
    assert answer.status_code == 400
    assert "channels" in answer.json["error"]["message"]


def test_a_number_receiving_every_asked_channel_is_preferred(make_app):
    numbers = [
        {"number": TWILIO.number, "provider": "twilio"},
        *BOTH,
    ]
    client = make_app("twilio", "whatsapp", numbers=numbers).test_client()
    for _ in range(4):
        created = new_challenge(client)
        assert (created["to"], created["channels"]) == (NUMBER, ["sms", "whatsapp"])


def test_the_whatsapp_qr_encodes_the_wa_me_link_and_only_when_offered(make_app):
    client = make_app("twilio", "whatsapp", numbers=BOTH).test_client()
    both = new_challenge(client)
    answer = client.get(both["whatsapp"]["qr_svg_url"].removeprefix(PUBLIC_URL))
    assert (answer.status_code, answer.mimetype) == (200, "image/svg+xml")
    assert client.get(both["whatsapp"]["qr_png_url"].removeprefix(PUBLIC_URL)).status_code == 200
    sms_only = new_challenge(client, channels=["sms"])
    path = sms_only["qr_svg_url"].removeprefix(PUBLIC_URL)
    assert client.get(path + "?channel=whatsapp").status_code == 404
    assert client.get(path + "?channel=fax").status_code == 404
    assert client.get(path).status_code == 200


# Twilio's WhatsApp


def test_twilio_whatsapp_verifies_on_the_whatsapp_channel(make_app):
    numbers = [
        {"number": TWILIO.number, "provider": "twilio", "channel": "sms"},
        {"number": TWILIO.number, "provider": "twilio", "channel": "whatsapp"},
    ]
    client = make_app("twilio", numbers=numbers).test_client()
    created = new_challenge(client, channels=["whatsapp"])
    answer = twilio_whatsapp(created["body"], SENDER, TWILIO.number, "w-1").send(client)
    assert answer.status_code == 200
    after = challenge(client, created["id"])
    assert (after["status"], after["verified_phone"], after["channel"]) == (
        "verified",
        SENDER,
        "whatsapp",
    )


def test_twilio_whatsapp_to_a_number_without_the_channel_changes_nothing(make_app):
    client = make_app("twilio").test_client()
    created = new_challenge(client)
    answer = twilio_whatsapp(created["body"], SENDER, TWILIO.number, "w-2").send(client)
    assert answer.status_code == 200
    assert challenge(client, created["id"])["status"] == "pending"


def test_twilio_whatsapp_sender_to_an_sms_number_is_a_400(make_app):
    client = make_app("twilio").test_client()
    created = new_challenge(client)
    sample = twilio_whatsapp(created["body"], SENDER, TWILIO.number, "w-3")
    fields = dict(pair.split("=", 1) for pair in sample.body.decode().split("&"))
    fields["To"] = TWILIO.number
    from urllib.parse import unquote

    plain = {k: unquote(v) for k, v in fields.items()}
    signature = twilio.signature(TWILIO.key, PUBLIC_URL + "/webhooks/twilio", [*plain.items()])
    forged = replace(
        sample,
        body=urlencode(plain).encode(),
        headers=sample.headers | {"X-Twilio-Signature": signature},
    )
    assert forged.send(client).status_code == 400
    assert challenge(client, created["id"])["status"] == "pending"


def test_numbers_listed_twice_for_one_channel_are_refused(make_app):
    from app.config.checks import ConfigError

    twice = [BOTH[1], BOTH[1]]
    with pytest.raises((ConfigError, ValueError), match="listed twice"):
        make_app("whatsapp", numbers=twice)


def test_a_whatsapp_verification_is_method_inbound_whatsapp_and_amr_whatsapp(client):
    from app.domain.proofs import amr

    created = new_challenge(client)
    assert text_request(created["body"], mid="wamid.P").send(client).status_code == 200
    after = challenge(client, created["id"])
    assert (after["method"], after["channel"]) == ("inbound_whatsapp", "whatsapp")
    assert amr(after["method"]) == ["whatsapp"]
