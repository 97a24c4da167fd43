"""Country policy through the API and the webhook: expected phones and discovery senders."""

from __future__ import annotations

import pytest

from tests.conftest import AUTH, NUMBER
from tests.sms import create_on_simulator, text_in

GG_MOBILE = "+447911123456"
FR_MOBILE = "+33612345678"
GB_MOBILE = "+447400123456"

settings_overrides = pytest.fixture(
    lambda: {"phones": {"denied_countries": ["GG"], "allowed_countries": ["FR", "GB", "GG"]}}
)


def test_an_expected_phone_of_a_denied_country_is_refused_by_name(client):
    answer = client.post("/api/v1/challenges", json={"phone": GG_MOBILE}, headers=AUTH)
    assert answer.status_code == 400
    assert answer.json["error"]["code"] == "country_refused"
    assert "GG" in answer.json["error"]["message"]


def test_an_expected_phone_outside_the_allowed_countries_is_refused_by_name(client):
    answer = client.post("/api/v1/challenges", json={"phone": "+16132345678"}, headers=AUTH)
    assert answer.status_code == 400
    assert answer.json["error"]["code"] == "country_refused"
    assert "CA" in answer.json["error"]["message"]


def test_allowed_countries_still_create(client):
    for phone in (FR_MOBILE, GB_MOBILE):
        answer = client.post("/api/v1/challenges", json={"phone": phone}, headers=AUTH)
        assert answer.status_code == 201, answer.json


def test_a_discovery_sender_of_a_denied_country_matches_nothing(client, ctx):
    made = create_on_simulator(client)
    answer = text_in(client, made["body"], sender=GG_MOBILE, to=NUMBER)
    assert answer.json["outcomes"] == ["country_denied"]
    assert ctx.store.challenge(made["id"]).status == "pending"
    text_in(client, made["body"], sender=FR_MOBILE, to=NUMBER)
    assert ctx.store.challenge(made["id"]).status == "verified"


def test_a_premium_rate_sender_cannot_verify_a_discovery_challenge(client, ctx):
    made = create_on_simulator(client)
    answer = text_in(client, made["body"], sender="+449012345678", to=NUMBER)
    assert answer.json["outcomes"] == ["sender_type_refused"]
    assert ctx.store.challenge(made["id"]).status == "pending"
    text_in(client, made["body"], sender=GB_MOBILE, to=NUMBER)
    assert ctx.store.challenge(made["id"]).verified_phone == GB_MOBILE


def test_unknown_country_codes_in_settings_are_refused(tmp_path):
    from app.config import load
    from app.config.checks import ConfigError
    from tests.conftest import base_settings

    with pytest.raises(ConfigError, match="XX"):
        load(overrides=base_settings(tmp_path, phones={"denied_countries": ["XX"]}), environ={})
