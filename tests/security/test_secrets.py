"""Secrets: key rotation keeps pending challenges working; status tokens only read, briefly."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from app.usecases import challenges
from tests.conftest import AUTH, NUMBER, SECRET, base_settings
from tests.security.helpers import create, outcome, send_sms

NEW_SECRET = "a-new-secret-key-generated-for-rotation-7d3f9c2b1e8a"
SIM_ONLY = [{"number": NUMBER, "provider": "simulator"}]
PHONE = "+14155550123"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"numbers": SIM_ONLY}


def rotated(raw: dict[str, Any], secret: str, old: list[str]) -> dict[str, Any]:
    """The same settings (same database) with another key ring."""
    changed = copy.deepcopy(raw)
    changed["server"] |= {"secret_key": secret, "old_secret_keys": old}
    return changed


def test_adding_a_key_and_retiring_the_old_one_keeps_pending_challenges_working(
    tmp_path, make_app, clock
):
    raw = base_settings(tmp_path, numbers=SIM_ONLY)
    before = make_app(raw).test_client()
    discovery = create(before)
    expected = create(before, phone=PHONE)

    # Step 1: the new key signs and hashes; the old one is still accepted.
    during = make_app(rotated(raw, NEW_SECRET, [SECRET])).test_client()
    for made in (discovery, expected):
        status = during.get(f"/api/v1/status/{made['token']}")
        assert status.status_code == 200 and status.json["status"] == "pending"
        assert during.get(f"/api/v1/status/{made['token']}/qr.svg").status_code == 200
    assert outcome(send_sms(during, PHONE, discovery["body"])) == "matched"
    assert outcome(send_sms(during, PHONE, expected["body"])) == "matched"
    assert during.get(f"/api/v1/status/{expected['token']}").json["status"] == "verified"
    made_during = create(during)

    # Step 2: the old key is retired; challenges made under the new key work alone.
    after = make_app(rotated(raw, NEW_SECRET, [])).test_client()
    assert after.get(f"/api/v1/status/{made_during['token']}").status_code == 200
    assert outcome(send_sms(after, PHONE, made_during["body"])) == "matched"


def test_retiring_a_key_too_early_strands_its_pending_challenges(tmp_path, make_app):
    raw = base_settings(tmp_path, numbers=SIM_ONLY)
    made = create(make_app(raw).test_client())
    early = make_app(rotated(raw, NEW_SECRET, [])).test_client()
    assert early.get(f"/api/v1/status/{made['token']}").status_code == 404
    assert outcome(send_sms(early, PHONE, made["body"])) == "unknown_code"


def test_a_status_token_is_not_an_api_key(client):
    made = create(client)
    bearer = {"Authorization": f"Bearer {made['token']}"}
    assert client.get(f"/api/v1/challenges/{made['id']}", headers=bearer).status_code == 401
    assert client.post(f"/api/v1/challenges/{made['id']}/cancel", headers=bearer).status_code == 401
    assert client.post("/api/v1/challenges", json={}, headers=bearer).status_code == 401


def test_a_status_token_reads_the_final_status_for_the_grace_time_only(client, clock):
    made = create(client)
    assert outcome(send_sms(client, PHONE, made["body"])) == "matched"
    clock.advance(299)
    assert client.get(f"/api/v1/status/{made['token']}").json["status"] == "verified"
    clock.advance(1)
    assert client.get(f"/api/v1/status/{made['token']}").status_code == 404


def test_a_status_token_expires_with_its_challenge(client, clock):
    made = create(client)
    clock.advance(600)
    assert client.get(f"/api/v1/status/{made['token']}").json["status"] == "expired"
    clock.advance(300)
    assert client.get(f"/api/v1/status/{made['token']}").status_code == 404


def test_the_code_is_not_shown_once_the_challenge_is_final(client, ctx):
    made = create(client)
    assert client.get(f"/api/v1/status/{made['token']}/qr.svg").status_code == 200
    challenges.cancel_challenge(ctx, made["id"])
    assert client.get(f"/api/v1/status/{made['token']}/qr.svg").status_code == 404
    assert client.get(f"/api/v1/status/{made['token']}").json["status"] == "cancelled"


def test_status_answers_show_no_code_and_no_full_number(client):
    made = create(client, phone=PHONE)
    shown = client.get(f"/api/v1/status/{made['token']}").get_data(as_text=True)
    assert made["code"] not in shown
    assert PHONE not in shown and PHONE[2:] not in shown


def test_the_integrators_view_needs_the_api_key(client):
    made = create(client)
    assert client.get(f"/api/v1/challenges/{made['id']}").status_code == 401
    assert client.get(f"/api/v1/challenges/{made['id']}", headers=AUTH).status_code == 200


def test_unknown_and_stale_tokens_answer_alike(client, clock):
    made = create(client)
    clock.advance(900)
    stale = client.get(f"/api/v1/status/{made['token']}")
    unknown = client.get("/api/v1/status/" + "A" * 43)
    assert stale.status_code == unknown.status_code == 404
    assert stale.get_data() == unknown.get_data()
