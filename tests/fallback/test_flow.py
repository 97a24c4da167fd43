"""The fallback through the API: send a code to the expected phone, check it, receipts."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

import pytest
from twilio.request_validator import RequestValidator

from app.senders.transport import Transport
from tests.conftest import AUTH, PUBLIC_URL

SID = "AC" + "b" * 32
TOKEN = "outbound-twilio-token"
MESSAGES = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"
PHONE = "+33612345678"
SENDERS = [{"kind": "twilio", "name": "tw", "account_sid": SID, "auth_token": TOKEN,
            "from": "+15005550006"}]  # fmt: skip
FALLBACK = {"allowed_countries": ["FR"]}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"senders": SENDERS, "fallback": FALLBACK}


@pytest.fixture
def provider(app, requests_mock):
    """requests-mock at the outbound edge, answering like Twilio; DNS answers a public IP."""
    app.extensions["reverse_otp"].fallback.transport = Transport(
        resolver=lambda host, port: ["93.184.216.34"]
    )
    sids = iter(f"SM{i:032x}" for i in range(1, 100))
    requests_mock.post(MESSAGES, status_code=201, json=lambda req, ctx: {"sid": next(sids)})
    return requests_mock


def create(client, phone=PHONE) -> dict:
    body = {"phone": phone} if phone else {}
    response = client.post("/api/v1/challenges", json=body, headers=AUTH)
    assert response.status_code == 201, response.json
    return response.json


def sent_code(provider) -> str:
    body = dict(parse_qsl(provider.last_request.text))["Body"]
    return re.search(r"#(\d{6})$", body).group(1)


def test_sends_a_code_with_the_webotp_line_and_verifies_with_it(client, provider):
    challenge = create(client)
    response = client.post(f"/api/v1/challenges/{challenge['id']}/send", headers=AUTH)
    assert response.status_code == 202, response.json
    assert response.json["status"] == "sent" and response.json["resend_after"] == 30
    form = dict(parse_qsl(provider.last_request.text))
    assert form["To"] == PHONE
    assert form["StatusCallback"] == PUBLIC_URL + "/receipts/tw"
    code = sent_code(provider)
    assert form["Body"].endswith(f"\n\n@verify.reverse-otp.test #{code}")
    checked = client.post(
        f"/api/v1/challenges/{challenge['id']}/check", json={"code": code}, headers=AUTH
    )
    assert checked.status_code == 200, checked.json
    assert checked.json["status"] == "verified"
    assert checked.json["method"] == "outbound_sms"
    assert checked.json["verified_phone"] == PHONE
    shown = client.get(f"/api/v1/challenges/{challenge['id']}", headers=AUTH).json
    assert shown["method"] == "outbound_sms"


def test_the_status_token_may_send_and_check(client, provider):
    challenge = create(client)
    token = challenge["token"]
    sent = client.post(f"/api/v1/challenges/{challenge['id']}/send", json={"token": token})
    assert sent.status_code == 202
    checked = client.post(f"/api/v1/status/{token}/check", json={"code": sent_code(provider)})
    assert checked.status_code == 200
    assert checked.json["status"] == "verified"
    assert "verified_phone" not in checked.json  # the token's view shows no full number
    shown = client.get(f"/api/v1/challenges/{challenge['id']}", headers=AUTH).json
    assert shown["method"] == "outbound_sms"


def test_a_wrong_token_checks_nothing(client, provider):
    challenge = create(client)
    client.post(f"/api/v1/challenges/{challenge['id']}/send", headers=AUTH)
    answer = client.post("/api/v1/status/not-a-token/check", json={"code": sent_code(provider)})
    assert answer.status_code == 404
    shown = client.get(f"/api/v1/challenges/{challenge['id']}", headers=AUTH).json
    assert shown["status"] == "pending" and shown["attempts"] == 0


def test_a_token_opens_only_its_own_challenge(client, provider):
    mine, other = create(client), create(client, "+33612345679")
    response = client.post(f"/api/v1/challenges/{other['id']}/send", json={"token": mine["token"]})
    assert response.status_code == 404
    assert not provider.called


def test_without_credentials_nothing_is_sent(client, provider):
    challenge = create(client)
    response = client.post(f"/api/v1/challenges/{challenge['id']}/send")
    assert response.status_code == 401
    assert not provider.called


def test_five_wrong_codes_fail_the_challenge(client, provider):
    challenge = create(client)
    client.post(f"/api/v1/challenges/{challenge['id']}/send", headers=AUTH)
    code = sent_code(provider)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    url = f"/api/v1/challenges/{challenge['id']}/check"
    answers = [client.post(url, json={"code": wrong}, headers=AUTH).json for _ in range(5)]
    assert [a["attempts"] for a in answers] == [1, 2, 3, 4, 5]
    assert [a["status"] for a in answers] == ["pending"] * 4 + ["failed"]
    late = client.post(url, json={"code": code}, headers=AUTH)
    assert late.status_code == 409
    shown = client.get(f"/api/v1/challenges/{challenge['id']}", headers=AUTH).json
    assert shown["status"] == "failed" and shown["method"] is None


ROOMY = {"senders": SENDERS, "fallback": FALLBACK | {"per_phone": ["10/hour"]}}


@pytest.mark.parametrize("settings_overrides", [ROOMY])
def test_resends_wait_longer_each_time_and_stop_at_the_cap(client, provider, clock):
    challenge = create(client)
    url = f"/api/v1/challenges/{challenge['id']}/send"
    assert client.post(url, headers=AUTH).status_code == 202
    too_soon = client.post(url, headers=AUTH)
    assert too_soon.status_code == 429 and too_soon.json["error"]["code"] == "send_too_soon"
    assert int(too_soon.headers["Retry-After"]) == 30
    waits = []
    for expected in (30, 60, 120):
        clock.advance(expected - 1)
        assert client.post(url, headers=AUTH).status_code == 429
        clock.advance(1)
        answer = client.post(url, headers=AUTH)
        assert answer.status_code == 202, answer.json
        waits.append((answer.json["resend_after"], answer.json["sends_left"]))
    assert waits == [(60, 2), (120, 1), (240, 0)]  # the fourth send is the last (max_sends 4)
    clock.advance(280)  # still within the challenge's 600 s
    capped = client.post(url, headers=AUTH)
    assert capped.status_code == 429 and capped.json["error"]["code"] == "send_limit"
    assert provider.call_count == 4


def test_any_code_sent_for_the_challenge_verifies_it(client, provider, clock):
    challenge = create(client)
    url = f"/api/v1/challenges/{challenge['id']}/send"
    client.post(url, headers=AUTH)
    first = sent_code(provider)
    clock.advance(30)
    client.post(url, headers=AUTH)
    checked = client.post(
        f"/api/v1/challenges/{challenge['id']}/check", json={"code": first}, headers=AUTH
    )
    assert checked.json["status"] == "verified"


def test_a_code_never_verifies_another_challenge(client, provider):
    one, two = create(client), create(client, "+33612345679")
    client.post(f"/api/v1/challenges/{one['id']}/send", headers=AUTH)
    code = sent_code(provider)
    answer = client.post(f"/api/v1/challenges/{two['id']}/check", json={"code": code}, headers=AUTH)
    assert answer.status_code == 403 and answer.json["error"]["code"] == "check_refused"
    client.post(f"/api/v1/challenges/{two['id']}/send", headers=AUTH)
    answer = client.post(f"/api/v1/challenges/{two['id']}/check", json={"code": code}, headers=AUTH)
    assert answer.status_code == 200
    assert answer.json["status"] == "pending" and answer.json["attempts"] == 1


def test_discovery_challenges_get_no_code(client, provider):
    challenge = create(client, phone=None)
    answer = client.post(f"/api/v1/challenges/{challenge['id']}/send", headers=AUTH)
    assert answer.status_code == 409 and answer.json["error"]["code"] == "no_expected_phone"
    assert not provider.called


def test_a_country_not_allowed_gets_nothing(client, provider):
    challenge = create(client, "+14155550123")
    answer = client.post(f"/api/v1/challenges/{challenge['id']}/send", headers=AUTH)
    assert answer.status_code == 403 and answer.json["error"]["code"] == "country_not_allowed"
    assert not provider.called


def test_a_provider_refusal_is_reported_and_frees_the_caps(client, provider):
    provider.post(MESSAGES, status_code=400, json={"code": 21211, "message": "Invalid To"})
    challenge = create(client)
    answer = client.post(f"/api/v1/challenges/{challenge['id']}/send", headers=AUTH)
    assert answer.status_code == 502 and answer.json["error"]["code"] == "send_failed"


@pytest.mark.parametrize(
    "body",
    [{"code": 123456}, {"code": ""}, {"code": "1" * 65}, {"cod": "123456"}, ["123456"]],
)
def test_malformed_checks_are_400(client, provider, body):
    challenge = create(client)
    answer = client.post(f"/api/v1/status/{challenge['token']}/check", json=body)
    assert answer.status_code == 400 and answer.json["error"]["code"] == "invalid_request"


def status_callback(status: str, sid: str, token: str = TOKEN):
    url = PUBLIC_URL + "/receipts/tw"
    fields = {"AccountSid": SID, "MessageSid": sid, "MessageStatus": status}
    headers = {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, fields)}
    return fields, headers


def test_the_per_phone_cap_holds_across_challenges(client, provider):
    answers = []
    for _ in range(4):
        challenge = create(client)
        answers.append(client.post(f"/api/v1/challenges/{challenge['id']}/send", headers=AUTH))
    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    assert answers[-1].json["error"]["code"] == "cap_phone_hour"
    assert provider.call_count == 3


def test_signed_receipts_update_the_send(client, provider, app):
    rt = app.extensions["reverse_otp"]
    challenge = create(client)
    client.post(f"/api/v1/challenges/{challenge['id']}/send", headers=AUTH)
    sid = f"SM{1:032x}"
    fields, headers = status_callback("delivered", sid)
    assert client.post("/receipts/tw", data=fields, headers=headers).status_code == 200
    [send] = rt.fallback.store.for_challenge(challenge["id"])
    assert send.status == "delivered"
    # A late "sent" never moves it back; a forged "failed" is refused.
    fields, headers = status_callback("sent", sid)
    client.post("/receipts/tw", data=fields, headers=headers)
    fields, headers = status_callback("failed", sid, token="guessed")
    assert client.post("/receipts/tw", data=fields, headers=headers).status_code == 403
    [send] = rt.fallback.store.for_challenge(challenge["id"])
    assert send.status == "delivered"


def test_receipts_for_an_unknown_sender_are_404(client):
    assert client.post("/receipts/nobody", data={"a": "b"}).status_code == 404


class TestWithoutSenders:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {}

    def test_send_answers_404_fallback_disabled_and_check_is_refused(self, client):
        challenge = create(client)
        answer = client.post(f"/api/v1/challenges/{challenge['id']}/send", json={}, headers=AUTH)
        assert answer.status_code == 404
        assert answer.json["error"]["code"] == "fallback_disabled"
        assert client.post("/receipts/tw", data={}).json["error"]["code"] == "fallback_disabled"
        url = f"/api/v1/challenges/{challenge['id']}/check"
        answer = client.post(url, json={"code": "123456"}, headers=AUTH)
        assert answer.status_code == 403 and answer.json["error"]["code"] == "check_refused"

    def test_the_page_shows_no_code_form(self, client):
        page = client.get(f"/v/{create(client)['token']}").get_data(as_text=True)
        assert 'id="outbound"' not in page


ADMIN_KEY = "admin-key-" + "0123456789abcdefghijkl"
METRICS_TOKEN = "metrics-token-" + "0123456789abcdefghij"
WATCHED = {
    "senders": SENDERS, "fallback": FALLBACK, "admin": {"key": ADMIN_KEY},
    "metrics": {"token": METRICS_TOKEN},
}  # fmt: skip


@pytest.mark.parametrize("settings_overrides", [WATCHED])
def test_dashboard_and_metrics_show_sends_receipts_and_guard_refusals(client, provider):
    challenge = create(client)
    client.post(f"/api/v1/challenges/{challenge['id']}/send", headers=AUTH)
    fields, headers = status_callback("delivered", f"SM{1:032x}")
    client.post("/receipts/tw", data=fields, headers=headers)
    refused = create(client, "+14155550123")
    client.post(f"/api/v1/challenges/{refused['id']}/send", headers=AUTH)

    client.post("/admin/login", data={"key": ADMIN_KEY})
    page = client.get("/admin").get_data(as_text=True)
    sends = page.split('id="outbound-sends"')[1].split("</table>")[0]
    assert re.search(r"<td>tw</td><td>FR</td><td>0</td><td>0</td>\s*<td>1</td><td>0</td>", sends)
    guards = page.split('id="outbound-guards"')[1].split("</table>")[0]
    assert "<td>country_not_allowed</td><td>1</td>" in guards
    assert "<td>cap_phone_hour</td><td>0</td>" in guards

    scrape = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    text = scrape.get_data(as_text=True)
    assert 'reverse_otp_outbound_sends_total{country="FR",sender="tw",status="sent"} 1.0' in text
    assert (
        'reverse_otp_outbound_sends_total{country="FR",sender="tw",status="delivered"} 1.0' in text
    )
    assert 'reverse_otp_outbound_refusals_total{guard="country_not_allowed"} 1.0' in text


def test_send_never_takes_a_number_from_the_request(client, provider):
    challenge = create(client)
    url = f"/api/v1/challenges/{challenge['id']}/send"
    answer = client.post(url, json={"token": challenge["token"], "phone": "+33699999999"})
    assert answer.status_code == 400 and answer.json["error"]["code"] == "invalid_request"
    assert not provider.called


def test_concurrent_sends_of_one_challenge_send_once(client, provider, app):
    import threading

    challenge = create(client)
    url = f"/api/v1/challenges/{challenge['id']}/send"
    answers: list[int] = []
    start = threading.Barrier(6)

    def send() -> None:
        with app.test_client() as own:
            start.wait()
            answers.append(own.post(url, headers=AUTH).status_code)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [202] + [429] * 5
    assert provider.call_count == 1


def test_a_turn_of_a_challenge_is_taken_once(app):
    from app.domain.sends import Send
    from app.store.sends_sql import SqlSends

    store = SqlSends(app.extensions["reverse_otp"].ctx.store)
    now = app.extensions["reverse_otp"].ctx.clock.now()
    first = Send("snd_a", "ch_x", 1, "tw", "sms", "FR", "+33612", "h" * 64, now)
    assert store.add(first)
    assert not store.add(Send("snd_b", "ch_x", 1, "tw", "sms", "FR", "+33612", "i" * 64, now))
    assert [s.id for s in store.for_challenge("ch_x")] == ["snd_a"]


def test_old_sends_are_purged_with_the_other_rows(client, provider, app, clock):
    from datetime import timedelta

    from app.usecases import challenges as challenge_cases

    rt = app.extensions["reverse_otp"]
    challenge = create(client)
    client.post(f"/api/v1/challenges/{challenge['id']}/send", headers=AUTH)
    assert len(rt.fallback.store.for_challenge(challenge["id"])) == 1
    clock.advance(2 * 86400)
    challenge_cases.purge_old(rt.ctx, timedelta(days=1))
    assert rt.fallback.store.for_challenge(challenge["id"]) == []


def test_codes_never_reach_the_logs(client, provider, caplog):
    caplog.set_level("DEBUG")
    challenge = create(client)
    client.post(f"/api/v1/challenges/{challenge['id']}/send", headers=AUTH)
    code = sent_code(provider)
    wrong = f"{(int(code) + 7) % 1_000_000:06d}"
    url = f"/api/v1/challenges/{challenge['id']}/check"
    client.post(url, json={"code": wrong}, headers=AUTH)
    client.post(url, json={"code": code}, headers=AUTH)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "code sent" in logged and "verified" in logged
    assert code not in logged and wrong not in logged
    assert PHONE not in logged


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b"\xff\xfe=\x80", "application/x-www-form-urlencoded"), (b"{not json", "application/json"),
     (b"", "application/x-www-form-urlencoded")],
)  # fmt: skip
def test_unreadable_or_unsigned_receipts_never_500(client, provider, body, content_type):
    headers = {"Content-Type": content_type, "X-Twilio-Signature": "c2lnbmF0dXJl"}
    answer = client.post("/receipts/tw", data=body, headers=headers)
    assert answer.status_code in (400, 403)
    if body.startswith(b"\xff"):
        assert answer.json["error"]["code"] == "malformed_webhook"


def test_proofs_name_a_sent_code_as_sms():
    from app.domain import proofs

    assert proofs.amr("outbound_sms") == ["sms"]
