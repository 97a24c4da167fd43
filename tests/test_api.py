"""The JSON API: contract, authentication, and clear refusals of bad input."""

from __future__ import annotations

import re

import pytest

from tests.conftest import AUTH, NUMBER, PUBLIC_URL

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def create(client, body=None, **kwargs):
    return client.post(
        "/api/v1/challenges", json={} if body is None else body, headers=AUTH, **kwargs
    )


def assert_error(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    error = response.json["error"]
    assert error["code"] == code
    assert error["message"]


def test_create_answers_every_documented_field(client):
    response = create(client, {"phone": "+33 6 12 34 56 78", "ttl": 300, "metadata": {"user": 7}})
    assert response.status_code == 201
    body = response.json
    assert body["status"] == "pending"
    assert body["id"].startswith("ch_")
    assert body["to"] in (NUMBER, "+14155550100")
    assert body["phone"] == "+33612345678"
    assert body["body"] == f"VERIFY {body['code']} to sign in to reverse-otp"
    assert body["sms_uri"] == (
        f"sms:{body['to']}?&body=VERIFY%20{body['code']}%20to%20sign%20in%20to%20reverse-otp"
    )
    assert body["qr_svg_url"] == f"{PUBLIC_URL}/api/v1/status/{body['token']}/qr.svg"
    assert body["qr_png_url"] == f"{PUBLIC_URL}/api/v1/status/{body['token']}/qr.png"
    assert body["status_url"] == f"{PUBLIC_URL}/api/v1/status/{body['token']}"
    assert RFC3339.match(body["expires_at"])
    assert body["metadata"] == {"user": 7}


def test_discovery_mode_has_no_expected_phone(client):
    assert create(client).json["phone"] is None


def test_ids_and_tokens_carry_at_least_128_bits(client):
    body = create(client).json
    # base64url: 6 bits a character
    assert len(body["id"].removeprefix("ch_")) * 6 >= 128
    assert len(body["token"]) * 6 >= 128


def test_creation_without_an_api_key_does_not_exist(client):
    response = client.post("/api/v1/challenges", json={})
    assert_error(response, 401, "unauthorized")
    wrong = client.post("/api/v1/challenges", json={}, headers={"Authorization": "Bearer nope"})
    assert_error(wrong, 401, "unauthorized")


def test_keys_made_by_the_cli_service_work(client, ctx):
    from app.usecases import api_keys

    key = api_keys.create_api_key(ctx, "test")
    response = client.post(
        "/api/v1/challenges", json={}, headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 201


def test_show_gives_the_full_view(client):
    created = create(client, {"phone": "+33612345678"}).json
    shown = client.get(f"/api/v1/challenges/{created['id']}", headers=AUTH)
    assert shown.status_code == 200
    for key in ("verified_phone", "verified_at", "attempts", "failure_reason", "status"):
        assert key in shown.json
    assert "code" not in shown.json
    assert "token" not in shown.json


def test_show_unknown_challenge_is_404(client):
    assert_error(client.get("/api/v1/challenges/ch_nope", headers=AUTH), 404, "not_found")


def test_cancel_ends_a_pending_challenge_once(client):
    cid = create(client).json["id"]
    cancelled = client.post(f"/api/v1/challenges/{cid}/cancel", headers=AUTH)
    assert cancelled.json["status"] == "cancelled"
    again = client.post(f"/api/v1/challenges/{cid}/cancel", headers=AUTH)
    assert_error(again, 409, "already_settled")


def test_status_needs_no_key_and_masks_the_phone(client):
    created = create(client, {"phone": "+33612345678"}).json
    status = client.get(f"/api/v1/status/{created['token']}")
    assert status.status_code == 200
    assert status.json["status"] == "pending"
    assert status.json["phone"] == "+33 6** *** *78"
    assert status.json["expires_at"] == created["expires_at"]
    assert created["code"] not in status.get_data(as_text=True)


def test_status_of_an_unknown_token_is_404(client):
    assert_error(client.get("/api/v1/status/not-a-token"), 404, "not_found")


def test_status_turns_expired_after_the_deadline(client, clock):
    token = create(client, {"ttl": 60}).json["token"]
    clock.advance(60)
    assert client.get(f"/api/v1/status/{token}").json["status"] == "expired"


def test_qr_codes_are_served_as_svg_and_png(client):
    token = create(client).json["token"]
    svg = client.get(f"/api/v1/status/{token}/qr.svg")
    assert svg.status_code == 200
    assert svg.mimetype == "image/svg+xml"
    assert b"<svg" in svg.data
    png = client.get(f"/api/v1/status/{token}/qr.png")
    assert png.mimetype == "image/png"
    assert png.data.startswith(b"\x89PNG")
    assert client.get(f"/api/v1/status/{token}/qr.gif").status_code == 404


def test_malformed_json_is_a_400(client):
    response = client.post(
        "/api/v1/challenges", data="{not json", headers=AUTH | {"Content-Type": "application/json"}
    )
    assert_error(response, 400, "invalid_json")


def test_a_body_that_is_not_json_is_a_400(client):
    response = client.post("/api/v1/challenges", data="phone=1", headers=AUTH)
    assert_error(response, 400, "invalid_json")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([1, 2], "body"),
        ({"phone": 33612345678}, "phone"),
        ({"ttl": "300"}, "ttl"),
        ({"ttl": 3.5}, "ttl"),
        ({"metadata": "x"}, "metadata"),
        ({"colour": "blue"}, "colour"),
        ({"phone": "+33612345678", "extra": {"a": 1}}, "extra"),
    ],
)
def test_fields_of_the_wrong_type_or_unknown_are_refused_by_name(client, body, field):
    response = create(client, body)
    assert_error(response, 400, "invalid_request")
    assert field in response.json["error"]["message"]


def test_invalid_phone_is_refused(client):
    response = create(client, {"phone": "+33 12"})
    assert_error(response, 400, "invalid_phone")


def test_premium_rate_phone_is_refused(client):
    assert_error(create(client, {"phone": "+33899123456"}), 400, "phone_type_refused")


@pytest.mark.parametrize("ttl", [1, 10_000])
def test_ttl_out_of_bounds_is_refused(client, ttl):
    assert_error(create(client, {"ttl": ttl}), 400, "invalid_ttl")


def test_metadata_over_2_kib_is_refused(client):
    response = create(client, {"metadata": {"blob": "x" * 2100}})
    assert_error(response, 400, "invalid_request")
    assert "metadata" in response.json["error"]["message"]


def test_a_huge_body_is_a_413(client):
    response = client.post(
        "/api/v1/challenges",
        data=b"{" + b" " * (200 * 1024) + b"}",
        headers=AUTH | {"Content-Type": "application/json"},
    )
    assert_error(response, 413, "request_entity_too_large")


def test_unknown_routes_and_methods_answer_in_the_error_shape(client):
    assert_error(client.get("/api/v1/nothing"), 404, "not_found")
    assert_error(client.delete("/api/v1/challenges", headers=AUTH), 405, "method_not_allowed")
