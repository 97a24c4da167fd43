"""Pages for people: HTML in the user's language for every link, a favicon, feedback on a
message from another number, and the wording of the pending page."""

from __future__ import annotations

import re

import pytest

from app.domain.challenges import InboundMessage
from app.store.base import StoreUnavailable
from app.usecases import challenges, inbound
from tests.conftest import AUTH, NUMBER

PHONE = "+33612345678"
OTHER = "+14155550199"
FRENCH = {"Accept-Language": "fr-FR,fr;q=0.9"}


def create(client, **body):
    return client.post("/api/v1/challenges", json=body, headers=AUTH).json


def on_simulator(client, **body):
    for _ in range(4):
        made = create(client, **body)
        if made["to"] == NUMBER:
            return made
    raise AssertionError("no challenge on the simulator number")


def deliver(ctx, text, sender, message_id="m1"):
    message = InboundMessage("simulator", message_id, sender, NUMBER, text, sender)
    return inbound.record_inbound(ctx, message)


@pytest.mark.parametrize("token", ["unknown", "x" * 43, "a" * 200])
def test_an_unknown_link_is_an_html_page_in_the_users_language_with_404(client, token):
    response = client.get(f"/v/{token}", headers=FRENCH)
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<html lang="fr" dir="ltr">' in html
    assert "Ce lien ne fonctionne plus" in html
    assert '"error"' not in html
    assert response.headers["Cache-Control"] == "no-store"


def test_an_arabic_browser_gets_the_unknown_link_page_right_to_left(client):
    response = client.get("/v/unknown", headers={"Accept-Language": "ar"})
    assert '<html lang="ar" dir="rtl">' in response.get_data(as_text=True)


def test_a_link_past_its_grace_time_is_the_same_404_page(client, clock):
    created = create(client)
    clock.advance(600 + 300 + 1)  # the lifetime, then the status grace
    response = client.get(f"/v/{created['token']}")
    assert response.status_code == 404
    assert "This link no longer works" in response.get_data(as_text=True)


def test_an_expired_link_within_its_grace_time_shows_the_expired_state(client, clock):
    created = create(client)
    clock.advance(601)
    response = client.get(f"/v/{created['token']}", headers=FRENCH)
    assert response.status_code == 200
    assert "Code expiré" in response.get_data(as_text=True)


def test_an_outage_is_an_html_page_with_503(client, monkeypatch):
    def down(*args, **kwargs):
        raise StoreUnavailable("database down")

    monkeypatch.setattr(challenges, "challenge_for_token", down)
    response = client.get("/v/anything", headers=FRENCH)
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert response.headers["Retry-After"] == "5"
    assert "Momentanément indisponible" in response.get_data(as_text=True)


def test_the_favicon_is_served_and_cached(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.get_data().startswith(b"<svg")
    assert "max-age=86400" in response.headers["Cache-Control"]
    html = client.get(f"/v/{create(client)['token']}").get_data(as_text=True)
    assert '<link rel="icon" href="/favicon.ico"' in html


def test_an_sms_from_another_number_is_reported_on_the_page_without_that_number(client, ctx):
    created = on_simulator(client, phone=PHONE)
    html = client.get(f"/v/{created['token']}").get_data(as_text=True)
    warning = re.search(r'<p class="notice warning" id="wrong-sender"[^>]*>', html).group(0)
    assert "hidden" in warning
    assert deliver(ctx, created["body"], OTHER).outcome.value == "wrong_sender"
    html = client.get(f"/v/{created['token']}").get_data(as_text=True)
    warning = re.search(r'<p class="notice warning" id="wrong-sender"[^>]*>(.*?)</p>', html, re.S)
    assert "hidden" not in warning.group(0)
    assert "from another number" in warning.group(1)
    assert '<bdi class="phone-ending" dir="ltr">+33 6** *** *78</bdi>' in warning.group(1)  # masked
    for shown in (OTHER, OTHER[1:], "155550199", "0199"):
        assert shown not in html  # never which number sent it


def test_the_status_endpoint_counts_such_messages_and_never_names_the_sender(client, ctx):
    created = on_simulator(client, phone=PHONE)
    deliver(ctx, created["body"], OTHER)
    status = client.get(f"/api/v1/status/{created['token']}").json
    assert status["attempts"] == 1
    assert status["status"] == "pending"
    assert OTHER not in str(status) and "0199" not in str(status)
    view = client.get(f"/api/v1/challenges/{created['id']}", headers=AUTH).json
    assert view["attempts"] == 1
    assert OTHER not in str(view)  # the integrator learns that it happened, not from whom


def test_a_message_from_another_number_is_announced_to_live_listeners(client, ctx):
    created = on_simulator(client, phone=PHONE)
    seen = []
    cancel = ctx.bus.subscribe(created["id"], seen.append)
    try:
        deliver(ctx, created["body"], OTHER)
    finally:
        cancel()
    assert [e.status for e in seen] == ["pending"]


def test_the_instruction_comes_before_the_phone_to_send_from(client):
    created = create(client, phone=PHONE)
    html = client.get(f"/v/{created['token']}").get_data(as_text=True)
    assert html.index('class="lead"') < html.index('class="expected"')
    assert html.index('class="expected"') < html.index('id="qr"')


def test_the_page_shows_time_left_not_a_utc_clock(client):
    created = create(client)
    html = client.get(f"/v/{created['token']}").get_data(as_text=True)
    assert "UTC" not in html
    assert re.search(r'Time left: <time id="countdown"[^>]*>10:00</time>', html)


def test_a_long_discovery_code_is_shown_in_groups_and_sent_whole(client, ctx):
    created = on_simulator(client)
    code = created["code"]
    assert len(code) == 13
    html = client.get(f"/v/{created['token']}").get_data(as_text=True)
    shown = re.search(r'<code id="sms-body" class="sms-text">([^<]*)</code>', html).group(1)
    groups = shown.split()[1:4]
    assert "".join(groups) == code and [len(g) for g in groups] == [4, 4, 5]
    assert code in created["sms_uri"]  # the prefilled SMS carries it whole
    # The grouped text offers only that code: it verifies without spending the budget.
    assert inbound.candidates_in(ctx.policy, shown) == [code]
    assert deliver(ctx, shown, OTHER).outcome.value == "matched"


def test_an_expected_phone_code_is_shown_whole(client):
    created = create(client, phone=PHONE)
    html = client.get(f"/v/{created['token']}").get_data(as_text=True)
    assert f'<code id="sms-body" class="sms-text">{created["body"]}</code>' in html
