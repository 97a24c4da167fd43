"""The live API through the app: SSE route, long poll, SMS details and code renewal."""

from __future__ import annotations

import json

import pytest

from app.domain.challenges import InboundMessage
from app.usecases import challenges
from app.usecases import inbound as inbound_cases
from tests.conftest import AUTH, NUMBER, PUBLIC_URL, base_settings, runtime

SENDER = "+33612345678"


@pytest.fixture
def settings_overrides():
    return {"streams": {"max_per_ip": 3, "max_per_token": 2}}


def create(client, **body):
    response = client.post("/api/v1/challenges", json=body, headers=AUTH)
    assert response.status_code == 201
    return response.json


def inbound(ctx, text, sender=SENDER, message_id="m1"):
    message = InboundMessage("simulator", message_id, sender, NUMBER, text, sender)
    return inbound_cases.record_inbound(ctx, message)


def test_create_answer_links_the_stream_and_the_hosted_page(client):
    created = create(client)
    token = created["token"]
    assert created["events_url"] == f"{PUBLIC_URL}/api/v1/status/{token}/events"
    assert created["verify_url"] == f"{PUBLIC_URL}/v/{token}"


def test_stream_of_a_verified_challenge_is_one_event_then_the_end(client, ctx):
    created = create(client)
    inbound(ctx, created["body"])
    response = client.get(f"/api/v1/status/{created['token']}/events")
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-store"
    text = response.get_data(as_text=True)
    assert text.startswith("retry: 3000\n\n")
    assert "event: verified\n" in text
    assert "event: pending" not in text


def test_stream_tells_a_client_that_has_the_final_status_to_stop(client, ctx):
    created = create(client)
    inbound(ctx, created["body"])
    url = f"/api/v1/status/{created['token']}/events"
    assert client.get(url, headers={"Last-Event-ID": "verified"}).status_code == 204


def test_open_stream_receives_verified_when_the_webhook_is_handled(client, ctx):
    created = create(client)
    response = client.get(f"/api/v1/status/{created['token']}/events", buffered=False)
    chunks = iter(response.response)
    assert next(chunks) == b"retry: 3000\n\n"
    assert b"event: pending" in next(chunks)
    inbound(ctx, created["body"])
    final = next(chunks)
    assert final.startswith(b"id: verified\nevent: verified\n")
    assert json.loads(final.split(b"data: ")[1])["status"] == "verified"
    response.close()


def test_streams_are_capped_per_challenge(client):
    created = create(client)
    url = f"/api/v1/status/{created['token']}/events"
    open_ = [client.get(url, buffered=False) for _ in range(2)]
    refused = client.get(url)
    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "too_many_streams"
    for response in open_:
        response.close()
    again = client.get(url, buffered=False)
    assert again.status_code == 200
    again.close()


def test_streams_are_capped_per_address(client):
    urls = [f"/api/v1/status/{create(client)['token']}/events" for _ in range(4)]
    open_ = [client.get(url, buffered=False) for url in urls[:3]]
    assert client.get(urls[3]).status_code == 429
    for response in open_:
        response.close()


def test_stream_of_an_unknown_token_is_404(client):
    assert client.get("/api/v1/status/nope/events").status_code == 404


def test_long_poll_answers_at_once_when_final(client, ctx):
    created = create(client)
    inbound(ctx, created["body"])
    response = client.get(f"/api/v1/status/{created['token']}?wait=30")
    assert response.status_code == 200
    assert response.json["status"] == "verified"


@pytest.mark.parametrize("wait", ["-1", "31", "soon"])
def test_long_poll_refuses_a_wait_out_of_bounds(client, wait):
    created = create(client)
    response = client.get(f"/api/v1/status/{created['token']}?wait={wait}")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_wait"


def test_message_gives_the_token_holder_what_to_send(client):
    created = create(client)
    response = client.get(f"/api/v1/status/{created['token']}/message")
    assert response.status_code == 200
    for key in ("to", "body", "sms_uri", "qr_svg_url", "expires_at"):
        assert response.json[key] == created[key]


def test_renewal_waits_for_the_cooldown(client):
    created = create(client)
    response = client.post(f"/api/v1/status/{created['token']}/renew")
    assert response.status_code == 429
    assert response.json["error"]["code"] == "renew_too_soon"
    assert response.headers["Retry-After"] == "30"


def test_renewal_replaces_the_code_and_keeps_attempts_and_expiry(client, ctx, clock):
    created = create(client, phone="+33612345678")
    inbound(ctx, created["body"], sender="+33698765432", message_id="wrong")
    clock.advance(30)
    response = client.post(f"/api/v1/status/{created['token']}/renew")
    assert response.status_code == 200
    renewed = response.json
    assert renewed["body"] != created["body"]
    assert renewed["expires_at"] == created["expires_at"]
    assert renewed["renew_in"] == 30
    assert inbound(ctx, created["body"], message_id="old").outcome.value == "unknown_code"
    challenge = challenges.get_challenge(ctx, created["id"])
    assert challenge.attempts == 1
    assert challenge.renewals == 1
    assert inbound(ctx, renewed["body"], message_id="new").outcome.value == "matched"


def test_renewal_of_a_final_challenge_is_a_conflict(client, ctx, clock):
    created = create(client)
    inbound(ctx, created["body"])
    clock.advance(30)
    response = client.post(f"/api/v1/status/{created['token']}/renew")
    assert response.status_code == 409


def test_a_stream_closed_before_its_first_byte_frees_its_place(app, client):
    from werkzeug.test import EnvironBuilder

    from app.web.live_state import EXTENSION

    created = create(client)
    environ = EnvironBuilder(path=f"/api/v1/status/{created['token']}/events").get_environ()
    body = app.wsgi_app(environ, lambda status, headers: None)
    assert app.extensions[EXTENSION].streams.open_streams() == 1
    body.close()  # what the server does when the client leaves before the first byte
    assert app.extensions[EXTENSION].streams.open_streams() == 0


def test_stream_is_open_to_the_listed_origins_only(tmp_path, clock):
    from app import config, create_app

    raw = base_settings(
        tmp_path,
        api={
            "keys": ["test-api-key-0123456789-abcdefghijk"],
            "cors_origins": ["https://shop.example"],
        },
    )
    application = create_app(config.load(overrides=raw, environ={}), clock=clock)
    client = application.test_client()
    try:
        token = create(client)["token"]
        url = f"/api/v1/status/{token}/message"
        listed = client.get(url, headers={"Origin": "https://shop.example"})
        assert listed.headers["Access-Control-Allow-Origin"] == "https://shop.example"
        other = client.get(url, headers={"Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in other.headers
    finally:
        runtime(application).ctx.store.dispose()
