"""Each provider end to end through the app: a signed sample verifies its challenge, the same
request tampered by one byte leaves it pending; answers, retries and numbers."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from app.config.checks import ConfigError
from app.domain.challenges import Outcome
from tests.providers import samples
from tests.providers.helpers import challenge, new_challenge
from tests.providers.samples import PROVIDERS, SAMPLES, SENDER, build


@pytest.fixture(autouse=True)
def sns_certificate(requests_mock):
    return samples.mock_sns(requests_mock)


@pytest.mark.parametrize("name", PROVIDERS)
def test_signed_sample_verifies_and_a_one_byte_forgery_does_not(name, make_app, clock):
    app = make_app(name)
    client = app.test_client()
    created = new_challenge(client)
    assert created["to"] == SAMPLES[name].number
    genuine = build(name, created["body"], SENDER, SAMPLES[name].number, "m-1", clock.now())

    forged = SAMPLES[name].tamper(genuine, SENDER).send(client)
    if samples.SAMPLES[name].auth == "basic":
        assert forged.status_code == 401
        assert forged.headers["WWW-Authenticate"].startswith("Basic ")
    else:
        assert (forged.status_code, forged.get_data(as_text=True)) == (403, "forbidden\n")
    assert challenge(client, created["id"])["status"] == "pending"

    answer = genuine.send(client)
    assert 200 <= answer.status_code < 300
    after = challenge(client, created["id"])
    assert (after["status"], after["verified_phone"]) == ("verified", SENDER)


@pytest.mark.parametrize("name", PROVIDERS)
def test_a_retried_message_is_acknowledged_and_changes_nothing(name, make_app, clock):
    client = make_app(name).test_client()
    created = new_challenge(client, phone="+33612345679")
    wrong_sender = build(name, created["body"], SENDER, SAMPLES[name].number, "m-2", clock.now())
    first, second = wrong_sender.send(client), wrong_sender.send(client)
    assert first.status_code == second.status_code
    assert 200 <= second.status_code < 300
    assert challenge(client, created["id"])["attempts"] == 1


def test_vonage_long_message_in_three_parts_out_of_order_verifies_once(make_app, clock):
    app = make_app("vonage")
    client = app.test_client()
    created = new_challenge(client)
    text = created["body"]
    pieces = [text[:3], text[3:7], text[7:]]
    parts = [
        build(
            "vonage",
            piece,
            SENDER,
            SAMPLES["vonage"].number,
            f"p-{i}",
            clock.now(),
            variant=f"concat:0A3F:{i}:3",
        )
        for i, piece in enumerate(pieces, start=1)
    ]
    for part in (parts[2], parts[0]):
        assert part.send(client).status_code == 204
        assert challenge(client, created["id"])["status"] == "pending"
    assert parts[0].send(client).status_code == 204  # a retried part
    assert parts[1].send(client).status_code == 204
    assert challenge(client, created["id"])["status"] == "verified"
    for part in parts:  # retries after completion change nothing
        assert part.send(client).status_code == 204
    ctx = app.extensions["reverse_otp"].ctx
    from sqlalchemy import func, select

    from app.store.tables import inbound_messages

    with ctx.store.reader.connect() as conn:
        rows = conn.execute(
            select(inbound_messages.c.outcome, func.count()).group_by(inbound_messages.c.outcome)
        ).all()
    assert dict(rows) == {Outcome.MATCHED.value: 1}


def test_vonage_parts_racing_from_threads_are_matched_exactly_once(make_app, clock):
    from concurrent.futures import ThreadPoolExecutor

    app = make_app("vonage")
    client = app.test_client()
    created = new_challenge(client)
    text = created["body"]
    parts = [
        build(
            "vonage",
            piece,
            SENDER,
            SAMPLES["vonage"].number,
            f"r-{i}",
            clock.now(),
            variant=f"concat:77:{i}:2",
        )
        for i, piece in enumerate([text[:4], text[4:]], start=1)
    ]
    with ThreadPoolExecutor(4) as pool:
        codes = list(pool.map(lambda p: p.send(app.test_client()).status_code, parts * 3))
    assert set(codes) == {204}
    assert challenge(client, created["id"])["status"] == "verified"


@pytest.mark.parametrize("variant", ["get", "json"])
def test_vonage_get_and_json_callbacks_verify(variant, make_app, clock):
    client = make_app("vonage").test_client()
    created = new_challenge(client)
    build(
        "vonage",
        created["body"],
        SENDER,
        SAMPLES["vonage"].number,
        "v",
        clock.now(),
        variant=variant,
    ).send(client)
    assert challenge(client, created["id"])["status"] == "verified"


def test_twilio_get_callback_verifies(make_app, clock):
    client = make_app("twilio").test_client()
    created = new_challenge(client)
    s = build(
        "twilio",
        created["body"],
        SENDER,
        SAMPLES["twilio"].number,
        "SMg",
        clock.now(),
        variant="get",
    )
    assert s.send(client).status_code == 200
    assert challenge(client, created["id"])["status"] == "verified"


def test_plivo_v2_signature_is_accepted_when_the_operator_opts_in(make_app, clock):
    section = samples.SAMPLES["plivo"].section | {"allow_v2": True}
    client = make_app("plivo", providers={"plivo": section}).test_client()
    created = new_challenge(client)
    s = build(
        "plivo", created["body"], SENDER, SAMPLES["plivo"].number, "u", clock.now(), variant="v2"
    )
    assert s.send(client).status_code == 200
    assert challenge(client, created["id"])["status"] == "verified"


def test_infobip_request_with_several_messages_handles_each(make_app, clock):
    client = make_app("infobip").test_client()
    first, second = new_challenge(client), new_challenge(client)
    s = build(
        "infobip", first["body"], SENDER, SAMPLES["infobip"].number, "ib", clock.now(), variant="2"
    )
    body = json.loads(s.body)
    body["results"][1]["text"] = second["body"]
    body["results"][1]["from"] = "33612345679"
    assert s.with_body(json.dumps(body).encode()).send(client).status_code == 200
    assert challenge(client, first["id"])["verified_phone"] == SENDER
    assert challenge(client, second["id"])["verified_phone"] == "+33612345679"


@pytest.mark.parametrize("name", ["telnyx", "android-sms-gateway"])
def test_a_request_older_than_the_tolerance_is_rejected(name, make_app, clock):
    client = make_app(name).test_client()
    created = new_challenge(client)
    old = build(name, created["body"], SENDER, SAMPLES[name].number, "old", clock.now())
    clock.advance(301)
    assert old.send(client).status_code == 403
    assert challenge(client, created["id"])["status"] == "pending"


def test_message_to_a_number_that_is_not_ours_is_stored_and_rejected(make_app, clock):
    app = make_app("telnyx")
    client = app.test_client()
    created = new_challenge(client)
    s = build("telnyx", created["body"], SENDER, "+14155550199", "elsewhere", clock.now())
    assert s.send(client).status_code == 200
    assert challenge(client, created["id"])["status"] == "pending"
    assert stored_outcomes(app) == [Outcome.UNKNOWN_NUMBER.value]


def test_message_through_another_provider_than_the_numbers_is_stored_and_rejected(make_app, clock):
    app = make_app("telnyx", "sinch")
    client = app.test_client()
    created = new_challenge(client)
    owner = "telnyx" if created["to"] == SAMPLES["telnyx"].number else "sinch"
    other = "sinch" if owner == "telnyx" else "telnyx"
    s = build(other, created["body"], SENDER, created["to"], "detour", clock.now())
    assert s.send(client).status_code == 200
    assert challenge(client, created["id"])["status"] == "pending"
    assert stored_outcomes(app) == [Outcome.WRONG_PROVIDER.value]


def stored_outcomes(app):
    from sqlalchemy import select

    from app.store.tables import inbound_messages

    with app.extensions["reverse_otp"].ctx.store.reader.connect() as conn:
        return list(conn.execute(select(inbound_messages.c.outcome)).scalars())


def test_aws_sns_subscription_confirmation_fetches_the_subscribe_url(
    make_app, clock, requests_mock
):
    client = make_app("aws-sns").test_client()
    envelope = samples.sns_envelope(
        samples.SNS_KEY, "confirm", clock.now(), "SubscriptionConfirmation"
    )
    answer = client.post(
        "/webhooks/aws-sns",
        data=json.dumps(envelope),
        headers={"Content-Type": "text/plain; charset=UTF-8"},
    )
    assert answer.status_code == 200
    assert [r.url for r in requests_mock.request_history][-1] == samples.SNS_SUBSCRIBE_URL


def test_aws_sns_caches_the_signing_certificate(make_app, clock, requests_mock):
    client = make_app("aws-sns").test_client()
    for i in range(3):
        build("aws-sns", "hello", SENDER, SAMPLES["aws-sns"].number, f"c{i}", clock.now()).send(
            client
        )
    fetched = [r for r in requests_mock.request_history if r.url == samples.SNS_CERT_URL]
    assert len(fetched) == 1


def test_aws_sns_signature_version_1_is_accepted(make_app, clock):
    client = make_app("aws-sns").test_client()
    created = new_challenge(client)
    s = build(
        "aws-sns",
        created["body"],
        SENDER,
        SAMPLES["aws-sns"].number,
        "v1",
        clock.now(),
        variant="v1",
    )
    assert s.send(client).status_code == 200
    assert challenge(client, created["id"])["status"] == "verified"


def test_aws_sns_refuses_a_certificate_outside_sns_hosts(make_app, clock, requests_mock):
    client = make_app("aws-sns").test_client()
    s = build("aws-sns", "hello", SENDER, SAMPLES["aws-sns"].number, "x", clock.now())
    for url in (
        "http://sns.eu-west-1.amazonaws.com/a.pem",
        "https://sns.evil.com/a.pem",
        "https://sns.eu-west-1.amazonaws.com.evil.com/a.pem",
    ):
        body = json.loads(s.body) | {"SigningCertURL": url}
        assert s.with_body(json.dumps(body).encode()).send(client).status_code == 403
    assert not [r for r in requests_mock.request_history if "evil" in r.url or r.scheme == "http"]


def test_aws_sns_unreachable_certificate_answers_503_so_sns_retries(make_app, clock, requests_mock):
    import requests

    requests_mock.get(samples.SNS_CERT_URL, exc=requests.ConnectTimeout)
    client = make_app("aws-sns").test_client()
    s = build("aws-sns", "hello", SENDER, SAMPLES["aws-sns"].number, "x", clock.now())
    assert s.send(client).status_code == 503


def test_aws_sns_refuses_a_topic_not_allowed(make_app, clock):
    client = make_app("aws-sns").test_client()
    s = build("aws-sns", "hello", SENDER, SAMPLES["aws-sns"].number, "x", clock.now())
    envelope = samples.sns_envelope(samples.SNS_KEY, json.loads(s.body)["Message"], clock.now())
    envelope["TopicArn"] = "arn:aws:sns:eu-west-1:999999999999:other"
    assert s.with_body(json.dumps(envelope).encode()).send(client).status_code == 403


def test_store_failure_before_storing_answers_503(make_app, clock, monkeypatch):
    from app.store.base import StoreUnavailable

    app = make_app("telnyx")
    client = app.test_client()
    created = new_challenge(client)
    store = app.extensions["reverse_otp"].ctx.store

    def down():
        raise StoreUnavailable("database is down")

    monkeypatch.setattr(store, "begin", down)
    s = build("telnyx", created["body"], SENDER, SAMPLES["telnyx"].number, "t", clock.now())
    assert s.send(client).status_code == 503


def test_unknown_or_disabled_provider_is_404(make_app, clock):
    client = make_app("telnyx").test_client()
    assert client.post("/webhooks/sinch", data=b"{}").status_code == 404
    assert client.post("/webhooks/nope", data=b"{}").status_code == 404


def test_startup_refuses_a_provider_with_no_authenticity_check(make_app, clock):
    with pytest.raises(ConfigError) as refused:
        make_app("infobip", providers={"infobip": {}})
    message = str(refused.value)
    assert "providers.infobip.path_token" in message
    assert "providers.infobip.basic_username" in message
    assert "allow_unauthenticated" in message


def test_startup_names_the_signature_key_of_a_provider_that_can_sign(make_app, clock):
    with pytest.raises(ConfigError, match=r"providers\.sinch\.signing_secret"):
        make_app("sinch", providers={"sinch": {}})


def test_explicit_opt_in_starts_and_warns_on_every_start(make_app, clock, caplog):
    for _ in range(2):
        make_app(
            "africastalking",
            providers={"africastalking": {"allow_unauthenticated": True}},
        )
    warnings = [r for r in caplog.records if "INSECURE" in r.getMessage()]
    assert len(warnings) == 2


def test_an_unsigned_provider_accepts_a_request_when_opted_in(make_app, clock):
    client = make_app(
        "africastalking",
        providers={"africastalking": {"allow_unauthenticated": True}},
    ).test_client()
    created = new_challenge(client)
    s = build(
        "africastalking",
        created["body"],
        SENDER,
        SAMPLES["africastalking"].number,
        "a",
        clock.now(),
    )
    s = type(s)(s.method, "/webhooks/africastalking", s.headers, s.body)
    assert s.send(client).status_code == 200
    assert challenge(client, created["id"])["status"] == "verified"


def test_timestamps_inside_the_tolerance_still_pass_after_the_clock_moves(make_app, clock):
    client = make_app("telnyx").test_client()
    created = new_challenge(client)
    s = build("telnyx", created["body"], SENDER, SAMPLES["telnyx"].number, "t", clock.now())
    clock.advance(timedelta(seconds=299).total_seconds())
    assert s.send(client).status_code == 200


def test_a_reachability_probe_gets_200_and_stores_nothing(make_app, clock):
    app = make_app("textmagic")
    client = app.test_client()
    assert client.head("/webhooks/textmagic/anything").status_code == 200
    assert stored_outcomes(app) == []


def test_android_gateway_dedupes_on_the_event_id_not_the_content_derived_message_id(
    make_app, clock
):
    app = make_app("android-sms-gateway")
    client = app.test_client()
    name, to = "android-sms-gateway", SAMPLES["android-sms-gateway"].number
    first = build(name, "same words", SENDER, to, "event-1", clock.now())
    again = build(name, "same words", SENDER, to, "event-2", clock.now())
    assert (
        json.loads(first.body)["payload"]["messageId"]
        == json.loads(again.body)["payload"]["messageId"]
    )
    for sample in (first, again, first):
        assert sample.send(client).status_code == 200
    assert stored_outcomes(app) == [Outcome.NO_CODE.value, Outcome.NO_CODE.value]


def android_batch(messages: list[dict[str, object]], event_id: str, now) -> samples.Sample:
    from app.providers import android_sms_gateway

    envelope = {
        "deviceId": samples.DEVICE,
        "event": "sms:batch:received",
        "id": event_id,
        "payload": {"messages": messages},
        "webhookId": "kDMXGXUeNs_-d2HZ3unHT",
    }
    body = json.dumps(envelope, separators=(",", ":")).encode()
    stamp = str(int(now.timestamp()))
    key = samples.SAMPLES["android-sms-gateway"].key
    headers = samples.JSON | {
        "X-Signature": android_sms_gateway.signature(key, body, stamp),
        "X-Timestamp": stamp,
    }
    return samples.Sample("POST", "/webhooks/android-sms-gateway", headers, body)


def test_android_sms_gateway_batch_event_handles_every_message(make_app, clock):
    app = make_app("android-sms-gateway")
    client = app.test_client()
    first = new_challenge(client)
    second = new_challenge(client, phone="+33612345679")
    received = clock.now().isoformat(timespec="milliseconds")
    messages = [
        {
            "message": first["body"],
            "phoneNumber": SENDER,
            "messageId": "a1",
            "receivedAt": received,
        },
        {"message": second["body"], "sender": "+33612345679", "messageId": "a1", "simNumber": 1},
    ]
    batch = android_batch(messages, "batch-1", clock.now())
    assert batch.send(client).status_code == 200
    assert challenge(client, first["id"])["verified_phone"] == SENDER
    assert challenge(client, second["id"])["verified_phone"] == "+33612345679"
    assert batch.send(client).status_code == 200  # a redelivered batch stores nothing twice
    assert len(stored_outcomes(app)) == 2


@pytest.mark.parametrize("payload", [{"messages": "x"}, {"messages": [1]}, {}])
def test_android_sms_gateway_malformed_batch_is_a_400(payload, make_app, clock):
    client = make_app("android-sms-gateway").test_client()
    batch = android_batch([], "batch-2", clock.now())
    body = json.loads(batch.body) | {"payload": payload}
    raw = json.dumps(body).encode()
    from app.providers import android_sms_gateway

    stamp = batch.headers["X-Timestamp"]
    signature = android_sms_gateway.signature(
        samples.SAMPLES["android-sms-gateway"].key, raw, stamp
    )
    signed = batch.with_body(raw)
    signed = samples.Sample(
        signed.method, signed.path, signed.headers | {"X-Signature": signature}, raw
    )
    assert signed.send(client).status_code == 400
