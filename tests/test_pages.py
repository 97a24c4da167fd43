"""The hosted page, its theme and the development-only demo pages, through the app."""

from __future__ import annotations

import re

import pytest

from app import config, create_app
from app.config import checks
from app.domain.challenges import InboundMessage
from app.usecases import inbound
from tests.conftest import AUTH, NUMBER, PUBLIC_URL, base_settings, development_settings

DESKTOP = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0 Safari/537.36"}
IPHONE = {
    "User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
}


def create(client, **body):
    return client.post("/api/v1/challenges", json=body, headers=AUTH).json


def page(client, token, **headers):
    response = client.get(f"/v/{token}", headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_desktop_page_shows_the_qr_code_and_the_text_to_send(client):
    created = create(client)
    html = page(client, created["token"], **DESKTOP)
    qr_path = created["qr_svg_url"].removeprefix(PUBLIC_URL)
    assert f'src="{qr_path}"' in html  # same origin as the page, whatever the proxy
    assert 'id="send"' not in html
    assert created["body"] in html
    assert created["to"] in html


def test_phone_page_shows_the_send_button_with_the_exact_sms_link(client):
    created = create(client)
    html = page(client, created["token"], **IPHONE)
    href = re.search(r'<a id="send"[^>]*href="([^"]+)"', html).group(1)
    assert href.replace("&amp;", "&") == created["sms_uri"]
    assert 'id="qr"' not in html


def test_page_shows_the_expected_phone_masked(client):
    created = create(client, phone="+33612345678")
    html = page(client, created["token"])
    assert "+33 6** *** *78" in html
    assert "+33612345678" not in html


def test_page_is_french_for_a_french_browser(client):
    created = create(client)
    html = page(client, created["token"], **{"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})
    assert '<html lang="fr" dir="ltr">' in html
    assert "VERIFIER " in html and "pour vous connecter à" in html  # the SMS is French too
    assert "Vérifiez votre numéro de téléphone" in html
    assert "simple SMS" in html


def test_page_of_a_verified_challenge_shows_success(client, ctx):
    created = create(client)
    text = created["body"]
    inbound.record_inbound(
        ctx, InboundMessage("simulator", "m1", "+33612345678", NUMBER, text, "+33612345678")
    )
    html = page(client, created["token"])
    verified = re.search(r'<section class="done done-verified"[^>]*>', html).group(0)
    assert "hidden" not in verified
    assert 'http-equiv="refresh"' not in html


def test_pending_page_refreshes_itself_without_javascript(client):
    html = page(client, create(client)["token"])
    assert '<noscript><meta http-equiv="refresh" content="15"></noscript>' in html


def test_page_has_no_inline_script_style_or_handler(client):
    html = page(client, create(client)["token"])
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert re.findall(r"<style", html) == []
    assert re.findall(r"\sstyle=", html) == []
    assert re.findall(r"\son[a-z]+=", html) == []


def test_page_of_an_unknown_token_is_404(client):
    assert client.get("/v/unknown").status_code == 404


def test_renewal_form_without_javascript_reports_the_cooldown(client):
    created = create(client)
    response = client.post(f"/v/{created['token']}/renew")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("notice=too_soon")


def test_renewal_form_renews_after_the_cooldown(client, clock):
    created = create(client)
    clock.advance(31)
    response = client.post(f"/v/{created['token']}/renew", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Here is a new code." in html
    assert created["body"] not in html


@pytest.fixture
def settings_overrides():
    return {"page": {"accent": "#AA0000", "accent_text": "#ffffff", "background": "#fafafa"}}


def test_theme_carries_the_operator_colours(client):
    css = client.get("/theme.css").get_data(as_text=True)
    assert "--accent:#aa0000" in css
    assert "--background:#fafafa" in css


def test_a_colour_that_is_not_hex_is_refused(tmp_path):
    with pytest.raises(checks.ConfigError, match=r"page\.accent"):
        config.load(overrides=base_settings(tmp_path, page={"accent": "red"}), environ={})


def test_demo_pages_are_absent_in_production(client):
    assert client.get("/").status_code == 404
    assert client.get("/dev/phone").status_code == 404
    assert client.post("/demo").status_code == 404


@pytest.fixture
def dev_client(tmp_path, clock):
    raw = development_settings(tmp_path, page={"demo_per_minute": 2})
    application = create_app(config.load(overrides=raw, environ={}), clock=clock)
    yield application.test_client()
    application.extensions["reverse_otp"].ctx.store.dispose()


def test_demo_creates_a_discovery_challenge_and_opens_its_page(dev_client):
    assert "Try it" in dev_client.get("/").get_data(as_text=True)
    response = dev_client.post("/demo")
    assert response.status_code == 303
    assert re.fullmatch(r"/v/[A-Za-z0-9_-]+", response.headers["Location"])
    assert "Verify your phone number" in dev_client.get(response.headers["Location"]).text


def test_demo_is_rate_limited_per_address(dev_client):
    assert [dev_client.post("/demo").status_code for _ in range(2)] == [303, 303]
    refused = dev_client.post("/demo")
    assert refused.headers["Location"].endswith("limited=1")


def test_phone_simulator_signs_an_sms_the_webhook_accepts(dev_client):
    location = dev_client.post("/demo").headers["Location"]
    token = location.rsplit("/", 1)[1]
    body = dev_client.get(f"/api/v1/status/{token}/message").json["body"]
    assert dev_client.get("/dev/phone").status_code == 200
    sms = {"from": "+33612345678", "to": NUMBER, "text": body}
    signed = dev_client.post("/dev/phone/sign", json=sms).json
    answer = dev_client.post(
        signed["url"],
        data=signed["body"],
        headers={signed["header"]: signed["signature"], "Content-Type": "application/json"},
    )
    assert answer.json == {"outcomes": ["matched"]}
    assert dev_client.get(f"/api/v1/status/{token}").json["status"] == "verified"


def test_phone_simulator_refuses_an_incomplete_sms(dev_client):
    assert dev_client.post("/dev/phone/sign", json={"from": "+33612345678"}).status_code == 400
