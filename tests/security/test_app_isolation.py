"""One app's challenges do not lock a phone out for the others, and users see the app's name."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import unquote

import pytest

from app.domain.challenges import InboundMessage
from app.usecases import apps, inbound
from tests.conftest import AUTH, NUMBER, base_settings

PHONE = "+33612345678"
SIM_ONLY = [{"number": NUMBER, "provider": "simulator"}]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "numbers": SIM_ONLY,
        "server": {"name": "Operator Hosting"},
        "limits": {"per_phone": "2/hour", "per_phone_global": "5/hour"},
    }


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def create(client, key_headers, **body: Any):
    return client.post("/api/v1/challenges", json=body, headers=key_headers)


def test_one_apps_challenges_do_not_lock_a_phone_out_for_another_app(ctx, client):
    shop = apps.register(ctx, "Shop")
    bank = apps.register(ctx, "Bank")
    for _ in range(2):
        assert create(client, bearer(shop.key), phone=PHONE).status_code == 201
    refused = create(client, bearer(shop.key), phone=PHONE)
    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "rate_limited_phone"
    assert create(client, bearer(bank.key), phone=PHONE).status_code == 201


def test_a_global_ceiling_per_phone_still_holds_across_apps(ctx, client):
    keys = [apps.register(ctx, f"App {n}").key for n in range(4)]
    statuses = [create(client, bearer(k), phone=PHONE).status_code for k in keys for _ in range(2)]
    assert statuses.count(201) == 5
    assert statuses[5:] == [429, 429, 429]
    # The ceiling answers like the per-app limit: an app learns nothing of the others.
    assert create(client, bearer(keys[0]), phone=PHONE).json["error"]["code"] == (
        "rate_limited_phone"
    )


def test_the_global_ceiling_may_not_be_below_the_per_app_limit(tmp_path):
    from app.config import load
    from app.config.checks import ConfigError

    raw = base_settings(tmp_path, limits={"per_phone": "10/hour", "per_phone_global": "5/hour"})
    with pytest.raises(ConfigError, match=r"limits.*per_phone_global must allow"):
        load(overrides=raw, environ={})


def made_by_app(ctx, client, name: str) -> dict[str, Any]:
    made = apps.register(ctx, name)
    response = create(client, bearer(made.key))
    assert response.status_code == 201
    return response.json


def test_the_hosted_page_names_the_app_not_the_operator(ctx, client):
    created = made_by_app(ctx, client, "Shop & Company")
    page = client.get(f"/v/{created['token']}").get_data(as_text=True)
    assert "<title>Verify your phone number · Shop &amp; Company</title>" in page
    assert "Operator Hosting" not in page
    assert html.escape(created["body"]) in page  # the same SMS text the API gave


def test_the_sms_text_is_the_same_on_the_page_the_api_the_widget_and_the_qr(ctx, client):
    created = made_by_app(ctx, client, "Shop")
    token = created["token"]
    assert "Shop" in created["body"]
    message = client.get(f"/api/v1/status/{token}/message").json
    assert message["body"] == created["body"]
    assert unquote(message["sms_uri"]).endswith(created["body"])
    page = client.get(f"/v/{token}").get_data(as_text=True)
    assert html.escape(created["body"]) in page


def test_a_renewed_code_keeps_the_apps_name_in_its_text(ctx, client, clock):
    created = made_by_app(ctx, client, "Shop")
    clock.advance(31)
    renewed = client.post(f"/api/v1/status/{created['token']}/renew").json
    assert "Shop" in renewed["body"]
    assert renewed["body"] != created["body"]


def test_a_verified_page_tells_the_user_to_return_to_the_app(ctx, client):
    created = made_by_app(ctx, client, "Shop")
    message = InboundMessage("simulator", "m1", PHONE, NUMBER, created["body"], PHONE)
    inbound.record_inbound(ctx, message)
    page = client.get(f"/v/{created['token']}").get_data(as_text=True)
    assert "return to Shop." in page
    assert "Operator Hosting" not in page


def test_configured_keys_still_show_the_operator_name(client):
    created = create(client, AUTH).json
    assert "Operator Hosting" in client.get(f"/v/{created['token']}").get_data(as_text=True)
