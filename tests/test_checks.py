"""Test numbers: a listed phone's fixed code verifies its challenge through /check, in
production mode; any other phone, and discovery mode, are refused (403) and nothing changes."""

from __future__ import annotations

import logging

import pytest

from app.config import load
from app.config.checks import ConfigError
from app.usecases import apps
from tests.conftest import AUTH, base_settings

US_TEST = "+12025550123"  # NANP 555-01xx: fictional, yet valid to phonenumbers
UK_TEST = "+447700900123"  # Ofcom drama range: invalid to phonenumbers
US_CODE = "424242"
UK_CODE = "QA-REVIEW-7"
REAL = "+33612345678"
METRICS = "metrics-0123456789abcdefghijklmn"
ADMIN = "admin-key-" + "0123456789abcdefghijkl"

settings_overrides = pytest.fixture(
    lambda: {
        "test_numbers": [
            {"phone": US_TEST, "code": US_CODE},
            {"phone": "+44 7700 900123", "code": UK_CODE},
        ],
        "metrics": {"token": METRICS},
        "admin": {"key": ADMIN},
    }
)


def create(client, phone=None, headers=AUTH):
    body = {} if phone is None else {"phone": phone}
    response = client.post("/api/v1/challenges", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def check(client, cid, code, headers=AUTH):
    return client.post(f"/api/v1/challenges/{cid}/check", json={"code": code}, headers=headers)


def stored(ctx, cid):
    return ctx.store.challenge(cid)


def test_a_test_number_verifies_through_check_in_production_mode(client, ctx, settings):
    assert not settings.development
    made = create(client, US_TEST)
    answer = check(client, made["id"], US_CODE)
    assert answer.status_code == 200, answer.json
    assert answer.json["status"] == "verified"
    assert answer.json["method"] == "test"
    assert answer.json["verified_phone"] == US_TEST
    shown = client.get(f"/api/v1/challenges/{made['id']}", headers=AUTH).json
    assert (shown["status"], shown["method"]) == ("verified", "test")
    assert stored(ctx, made["id"]).method == "test"


def test_a_phone_of_a_range_phonenumbers_calls_invalid_is_accepted_when_listed(client):
    made = create(client, "+447700900123")
    assert made["phone"] == UK_TEST
    answer = check(client, made["id"], "qa review 7")  # case, spaces and dashes do not matter
    assert answer.json["status"] == "verified", answer.json


def test_an_unlisted_number_of_the_same_fictional_range_is_still_invalid(client):
    answer = client.post("/api/v1/challenges", json={"phone": "+447700900999"}, headers=AUTH)
    assert answer.status_code == 400
    assert answer.json["error"]["code"] == "invalid_phone"


def test_check_for_a_phone_that_is_not_listed_is_refused_and_changes_nothing(client, ctx):
    made = create(client, REAL)
    before = stored(ctx, made["id"])
    for code in (US_CODE, UK_CODE, made["code"]):
        answer = check(client, made["id"], code)
        assert answer.status_code == 403
        assert answer.json["error"]["code"] == "check_refused"
    assert stored(ctx, made["id"]) == before


def test_check_in_discovery_mode_is_refused_and_changes_nothing(client, ctx):
    made = create(client)
    before = stored(ctx, made["id"])
    for code in (US_CODE, made["code"]):
        answer = check(client, made["id"], code)
        assert answer.status_code == 403
        assert answer.json["error"]["code"] == "check_refused"
    assert stored(ctx, made["id"]) == before


def test_wrong_codes_count_as_attempts_and_the_fifth_fails_the_challenge(client, ctx):
    made = create(client, US_TEST)
    for attempt in range(1, 5):
        answer = check(client, made["id"], "000000")
        assert answer.status_code == 200
        assert (answer.json["status"], answer.json["attempts"]) == ("pending", attempt)
    last = check(client, made["id"], "000000")
    assert last.json["status"] == "failed"
    assert last.json["failure_reason"] == "too_many_attempts"
    late = check(client, made["id"], US_CODE)  # the right code comes too late
    assert late.status_code == 409
    assert stored(ctx, made["id"]).status == "failed"


def test_another_test_numbers_code_is_a_wrong_code(client):
    made = create(client, US_TEST)
    answer = check(client, made["id"], UK_CODE)
    assert (answer.json["status"], answer.json["attempts"]) == ("pending", 1)


def test_a_verified_or_expired_challenge_is_not_checked_again(client, clock, ctx):
    made = create(client, US_TEST)
    assert check(client, made["id"], US_CODE).status_code == 200
    again = check(client, made["id"], US_CODE)
    assert again.status_code == 409 and again.json["error"]["code"] == "already_settled"
    late = create(client, US_TEST)
    clock.advance(3600)
    answer = check(client, late["id"], US_CODE)
    assert answer.status_code == 409
    assert stored(ctx, late["id"]).status == "expired"


def test_another_apps_challenge_is_not_found(client, ctx):
    made = create(client, US_TEST)
    other = apps.register(ctx, "Other shop")
    answer = check(client, made["id"], US_CODE, {"Authorization": f"Bearer {other.key}"})
    assert answer.status_code == 404
    assert stored(ctx, made["id"]).status == "pending"


def test_check_needs_an_api_key(client, ctx):
    made = create(client, US_TEST)
    assert check(client, made["id"], US_CODE, headers={}).status_code == 401
    assert stored(ctx, made["id"]).status == "pending"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({}, "code"),
        ({"code": 424242}, "code"),
        ({"code": ""}, "code"),
        ({"code": "x" * 65}, "code"),
        ({"code": US_CODE, "phone": US_TEST}, "phone"),
        ([US_CODE], "JSON object"),
    ],
)
def test_malformed_bodies_are_refused_by_name(client, ctx, body, problem):
    made = create(client, US_TEST)
    answer = client.post(f"/api/v1/challenges/{made['id']}/check", json=body, headers=AUTH)
    assert answer.status_code == 400
    assert problem in answer.json["error"]["message"]
    assert stored(ctx, made["id"]).attempts == 0


def test_a_body_that_is_not_json_is_a_400(client):
    made = create(client, US_TEST)
    answer = client.post(f"/api/v1/challenges/{made['id']}/check", data=US_CODE, headers=AUTH)
    assert answer.status_code == 400
    assert answer.json["error"]["code"] == "invalid_json"


def test_sms_verifications_are_marked_inbound_sms(client):
    from tests.sms import create_on_simulator, text_in

    made = create_on_simulator(client, phone="+33612345678")
    text_in(client, made["body"])
    shown = client.get(f"/api/v1/challenges/{made['id']}", headers=AUTH).json
    assert (shown["status"], shown["method"]) == ("verified", "inbound_sms")


def test_test_verifications_are_counted_in_the_metrics(client):
    verified, wrong = create(client, US_TEST), create(client, US_TEST)
    check(client, verified["id"], US_CODE)
    check(client, wrong["id"], "nope")
    check(client, create(client, REAL)["id"], US_CODE)
    text = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS}"}).text
    assert 'reverse_otp_code_checks_total{method="test",outcome="verified"} 1.0' in text
    assert 'reverse_otp_code_checks_total{method="test",outcome="wrong_code"} 1.0' in text
    assert 'reverse_otp_code_checks_total{method="none",outcome="refused"} 1.0' in text


def test_the_dashboard_shows_test_verifications_apart(client):
    from tests.sms import create_on_simulator, text_in

    check(client, create(client, US_TEST)["id"], US_CODE)
    by_sms = create_on_simulator(client, phone=REAL)
    text_in(client, by_sms["body"], sender=REAL)
    page = client.get("/admin", headers={"Authorization": f"Bearer {ADMIN}"}).text
    tile = page.split("test verifications")[0].rsplit('class="n">', 1)[1]
    assert tile.startswith("1<")
    assert page.count('<small class="test">test</small>') == 1


def test_the_test_codes_are_never_logged(client, settings, caplog):
    caplog.set_level(logging.DEBUG)
    made = create(client, US_TEST)
    check(client, made["id"], "WRONG1")
    check(client, made["id"], US_CODE)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "code checked" in logged
    for secret in (US_CODE, UK_CODE, "WRONG1"):
        assert secret not in logged
        assert secret not in repr(settings) and secret not in str(settings.test_numbers)


# Start-up refusals


def settings_with(tmp_path, *entries):
    return base_settings(tmp_path, test_numbers=list(entries))


@pytest.mark.parametrize(
    "phone",
    ["+12025550123", "+16135550199", "+447700900000", "+442079460999", "+441614960123",
     "+441632960001", "+33639981234"],
)  # fmt: skip
def test_numbers_of_the_reserved_fictional_ranges_are_accepted(tmp_path, phone):
    loaded = load(overrides=settings_with(tmp_path, {"phone": phone, "code": "1234"}), environ={})
    assert loaded.test_numbers[0].phone == phone


@pytest.mark.parametrize(
    ("phone", "said"),
    [
        ("+12125551212", "real, routable number (US)"),  # 555-1212: directory assistance
        ("+12025550200", "real, routable number (US)"),  # 555-0200: past 01xx
        ("+33612345678", "real, routable number (FR)"),
        ("+447911123456", "real, routable number (GG)"),
        ("+447700900", "not in a reserved fictional range"),  # too short for the range
    ],
)
def test_a_real_routable_number_is_refused_at_start_up(tmp_path, phone, said):
    raw = settings_with(
        tmp_path, {"phone": US_TEST, "code": "1234"}, {"phone": phone, "code": "secret-77"}
    )
    with pytest.raises(ConfigError) as refused:
        load(overrides=raw, environ={})
    message = str(refused.value)
    assert message.startswith("test_numbers[1]: ")
    assert said in message and "allow_real = true" in message
    assert "secret-77" not in message and "\n" not in message


def test_allow_real_accepts_a_real_number_explicitly(tmp_path):
    entry = {"phone": "+33612345678", "code": "1234", "allow_real": True}
    assert load(overrides=settings_with(tmp_path, entry), environ={}).test_numbers


@pytest.mark.parametrize(
    ("entries", "said"),
    [
        ([{"phone": US_TEST, "code": "1234"}, {"phone": "+1 202 555 0123", "code": "9"}], "code"),
        ([{"phone": US_TEST, "code": "1234"}] * 2, "listed twice"),
        ([{"phone": "2025550123", "code": "1234"}], "international form"),
        ([{"phone": US_TEST}], "code"),
    ],
)
def test_malformed_entries_are_refused(tmp_path, entries, said):
    with pytest.raises(ConfigError) as refused:
        load(overrides=settings_with(tmp_path, *entries), environ={})
    assert said in str(refused.value)
    assert "1234" not in str(refused.value)


def test_the_real_server_refuses_to_start_with_a_real_test_number(tmp_path):
    from tests.e2e.server import free_port, write_config
    from tests.security.test_dev_refusals import run_cli

    raw = settings_with(tmp_path, {"phone": "+33612345678", "code": "hidden-code-55"})
    config = write_config(tmp_path / "config.toml", raw)
    status, stderr = run_cli(tmp_path, config, "serve", "--port", str(free_port()))
    assert status != 0
    refusal = [line for line in stderr.splitlines() if line.strip()]
    assert len(refusal) == 1, stderr
    assert "test_numbers[0]: +33612345678 is a real, routable number (FR)" in refusal[0]
    assert "hidden-code-55" not in stderr
