"""The hosted page of a WhatsApp-enabled number in headless Chromium: both channels offered,
each with its own link or QR code, and a WhatsApp message signed as Meta signs it verifies.
The embeddable widget (static/reverse-otp.js) on an integrator's page does the same.

The desktop screenshot is copied to docs/screenshot-whatsapp.png.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import requests

from app.providers import whatsapp
from tests.conftest import NUMBER, base_settings
from tests.e2e.server import free_port, running_server, write_config
from tests.e2e.test_browser import (
    ARTIFACTS,
    DESKTOP,
    browser,
    create,
    integrator,
    integrator_page,
    open_page,
    shot,
)
from tests.providers.samples import SAMPLES, whatsapp_body, whatsapp_text

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
# The Chromium and integrator-site fixtures, shared with the hosted page's own tests.
__all__ = ["browser", "integrator"]

APP_SECRET = "whatsapp-browser-app-secret"
DOCS = Path(__file__).resolve().parents[2] / "docs"
# The phone-number id the sample notifications name (whatsapp's record maps it in its section).
[PHONE_ID] = SAMPLES["whatsapp"].section["phone_numbers"]


@pytest.fixture(scope="module")
def server(tmp_path_factory, integrator):
    tmp = tmp_path_factory.mktemp("whatsapp-browser")
    port = free_port()
    raw = base_settings(tmp, codes={"renew_cooldown": 2}, server={})
    raw["server"] |= {"public_url": f"http://127.0.0.1:{port}", "name": "Example Shop"}
    raw["numbers"] = [
        {"number": NUMBER, "provider": "simulator", "channel": "sms"},
        {"number": NUMBER, "provider": "whatsapp", "channel": "whatsapp"},
    ]
    raw["providers"]["whatsapp"] = {
        "app_secret": APP_SECRET,
        "phone_numbers": {PHONE_ID: NUMBER},
    }
    raw["api"] |= {"cors_origins": [integrator[1]]}  # the widget's site
    config = write_config(tmp / "config.toml", raw)
    with running_server(tmp, config=config, port=port, workers=1) as base:
        yield base


def send_whatsapp(server, created, sender="+33612345678", mid="wamid.browser-1"):
    body = whatsapp_body([whatsapp_text(sender, mid, created["body"])], NUMBER)
    headers = {"Content-Type": "application/json", whatsapp.HEADER: whatsapp.signature(
        APP_SECRET, body)}  # fmt: skip
    answer = requests.post(server + "/webhooks/whatsapp", data=body, headers=headers, timeout=10)
    assert answer.status_code == 200


def test_desktop_page_offers_the_sms_and_the_whatsapp_qr_codes(server, browser):
    created = create(server)
    assert created["channels"] == ["sms", "whatsapp"]
    page = open_page(browser, created["verify_url"], **DESKTOP)
    for qr in ("qr", "qr-whatsapp"):
        page.locator(f"#{qr}").wait_for(state="visible")
        page.wait_for_function(f"() => document.getElementById('{qr}').naturalWidth > 0")
    assert page.locator("#whatsapp h2").inner_text() == "Or send it on WhatsApp"
    shot(page, "whatsapp-desktop")
    shutil.copyfile(ARTIFACTS / "whatsapp-desktop.png", DOCS / "screenshot-whatsapp.png")
    page.context.close()


def test_phone_page_offers_both_buttons_with_the_exact_links(server, browser):
    playwright, _ = browser
    created = create(server)
    page = open_page(browser, created["verify_url"], **playwright.devices["Pixel 7"])
    sms, wa = page.locator("#send"), page.locator("#send-whatsapp")
    sms.wait_for(state="visible")
    wa.wait_for(state="visible")
    assert sms.get_attribute("href") == created["sms_uri"]
    assert wa.get_attribute("href") == created["whatsapp"]["uri"]
    assert wa.get_attribute("href").startswith("https://wa.me/" + NUMBER.lstrip("+") + "?text=")
    assert wa.inner_text() == "Send it on WhatsApp"
    shot(page, "whatsapp-phone")
    page.context.close()


def test_an_sms_only_challenge_shows_no_whatsapp_way(server, browser):
    created = create(server, channels=["sms"])
    page = open_page(browser, created["verify_url"], **DESKTOP)
    page.locator("#qr").wait_for(state="visible")
    assert page.locator("#whatsapp").count() == 0
    page.context.close()


def no_sms_way(page):
    """Neither an sms: link nor the SMS QR code nor an SMS-only text is on the page."""
    assert page.locator("a[href^='sms:']").count() == 0
    assert page.locator("#send").count() == 0
    assert page.locator("#qr").count() == 0
    assert page.locator("img[src*='qr.svg']:not([src*='channel=whatsapp'])").count() == 0
    assert page.locator(".plain-sms").count() == 0
    assert page.locator("#whatsapp h2").count() == 0  # no "Or ...": it is the only way


def test_a_whatsapp_only_challenge_on_desktop_shows_only_the_whatsapp_way(server, browser):
    created = create(server, channels=["whatsapp"])
    assert created["channels"] == ["whatsapp"]
    page = open_page(browser, created["verify_url"], **DESKTOP)
    page.locator("#qr-whatsapp").wait_for(state="visible")
    page.wait_for_function("() => document.getElementById('qr-whatsapp').naturalWidth > 0")
    no_sms_way(page)
    assert page.locator("#status").inner_text() == "Waiting for your WhatsApp message…"
    assert page.locator("#sms-to").inner_text() == NUMBER  # typing it in WhatsApp still works
    page.wait_for_timeout(300)
    send_whatsapp(server, created, mid="wamid.browser-whatsapp-only")
    page.locator("#status").filter(has_text="Your phone number is verified.").wait_for(
        timeout=10_000
    )
    page.context.close()


def test_a_whatsapp_only_challenge_on_a_phone_shows_only_the_whatsapp_button(server, browser):
    playwright, _ = browser
    created = create(server, channels=["whatsapp"], locale="fr")
    page = open_page(browser, created["verify_url"], **playwright.devices["Pixel 7"])
    wa = page.locator("#send-whatsapp")
    wa.wait_for(state="visible")
    assert wa.get_attribute("href") == created["whatsapp"]["uri"]
    no_sms_way(page)
    assert page.locator("#status").inner_text() == "En attente de votre message WhatsApp…"
    page.context.close()


def test_an_sms_and_whatsapp_challenge_still_waits_for_the_sms_too(server, browser):
    created = create(server)
    page = open_page(browser, created["verify_url"], **DESKTOP)
    page.locator("#qr").wait_for(state="visible")
    assert page.locator("#status").inner_text() == "Waiting for your SMS…"
    assert page.locator(".plain-sms").is_visible()
    page.context.close()


def test_the_page_turns_verified_when_the_whatsapp_message_arrives(server, browser):
    created = create(server)
    page = open_page(browser, created["verify_url"], **DESKTOP)
    page.locator("#qr-whatsapp").wait_for(state="visible")
    page.evaluate("window.notReloaded = true")
    page.wait_for_timeout(300)
    send_whatsapp(server, created)
    page.locator("#status").filter(has_text="Your phone number is verified.").wait_for(
        timeout=10_000
    )
    assert not page.locator("#qr-whatsapp").is_visible()
    assert page.evaluate("window.notReloaded === true")
    status = requests.get(created["status_url"], timeout=10).json()
    assert (status["status"], status["channel"]) == ("verified", "whatsapp")
    page.context.close()


def test_a_renewed_code_updates_the_whatsapp_link(server, browser):
    playwright, _ = browser
    created = create(server)
    page = open_page(browser, created["verify_url"], **playwright.devices["Pixel 7"])
    wa = page.locator("#send-whatsapp")
    wa.wait_for(state="visible")
    before = wa.get_attribute("href")
    page.wait_for_function("() => !document.getElementById('renew').disabled", timeout=40_000)
    page.locator("#renew").click()
    page.wait_for_function(
        f"() => document.getElementById('send-whatsapp').getAttribute('href') !== {before!r}",
        timeout=10_000,
    )
    body = page.locator("#sms-body").inner_text()
    assert wa.get_attribute("href") == "https://wa.me/" + NUMBER.lstrip("+") + "?text=" + (
        requests.utils.quote(body, safe="")
    )
    page.context.close()


def widget_page(server, browser, integrator, created, **options):
    html = (
        f'<div id="w" data-reverse-otp-token="{created["token"]}" '
        f'data-reverse-otp-server="{server}" data-reverse-otp-lang="en"></div>'
        f'<script src="{server}/static/reverse-otp.js"></script>'
    )
    return integrator_page(browser, integrator, html, **options)


def no_sms_way_in_the_widget(page):
    assert page.locator("a[href^='sms:']").count() == 0
    assert page.locator("img[src*='qr.svg']:not([src*='channel=whatsapp'])").count() == 0
    assert page.locator("#w .rotp-note").count() == 0  # no "send it as a plain SMS"
    assert page.locator("#w .rotp-or").count() == 0  # no "Or ...": it is the only way


def test_widget_for_a_whatsapp_only_challenge_on_a_phone_shows_only_the_whatsapp_link(
    server, browser, integrator
):
    playwright, _ = browser
    created = create(server, channels=["whatsapp"])
    page = widget_page(server, browser, integrator, created, **playwright.devices["Pixel 7"])
    wa = page.locator("#w a.rotp-whatsapp")
    wa.wait_for(state="visible")
    assert wa.get_attribute("href") == created["whatsapp"]["uri"]
    assert wa.get_attribute("href").startswith("https://wa.me/" + NUMBER.lstrip("+") + "?text=")
    assert wa.inner_text() == "Send it on WhatsApp"
    no_sms_way_in_the_widget(page)
    assert page.locator("#w .rotp-button").count() == 1
    assert page.locator("#w .rotp-status").inner_text() == "Waiting for your WhatsApp message…"
    assert page.locator("#w .rotp-number").inner_text() == NUMBER
    page.context.close()


def test_widget_for_a_whatsapp_only_challenge_on_desktop_shows_only_the_whatsapp_qr(
    server, browser, integrator
):
    created = create(server, channels=["whatsapp"])
    page = widget_page(server, browser, integrator, created, **DESKTOP)
    qr = page.locator("#w img.rotp-whatsapp")
    qr.wait_for(state="visible")
    page.wait_for_function("() => document.querySelector('#w img.rotp-whatsapp').naturalWidth > 0")
    assert qr.get_attribute("src") == created["whatsapp"]["qr_svg_url"]
    assert page.locator("#w img.rotp-qr").count() == 1
    no_sms_way_in_the_widget(page)
    page.wait_for_timeout(300)  # the widget's status stream stays open past this status
    assert page.locator("#w .rotp-status").inner_text() == "Waiting for your WhatsApp message…"
    page.context.close()


def test_widget_for_an_sms_and_whatsapp_challenge_offers_both(server, browser, integrator):
    playwright, _ = browser
    created = create(server)
    assert created["channels"] == ["sms", "whatsapp"]
    page = widget_page(server, browser, integrator, created, **playwright.devices["Pixel 7"])
    page.locator("#w a.rotp-whatsapp").wait_for(state="visible")
    links = page.locator("#w a.rotp-button")
    assert [links.nth(i).get_attribute("href") for i in range(links.count())] == [
        created["sms_uri"],
        created["whatsapp"]["uri"],
    ]
    assert page.locator("#w .rotp-or").inner_text() == "Or send it on WhatsApp"
    assert page.locator("#w .rotp-note").is_visible()  # the plain-SMS advice stays
    assert page.locator("#w .rotp-status").inner_text() == "Waiting for your SMS…"
    page.context.close()

    page = widget_page(server, browser, integrator, created, **DESKTOP)
    qrs = page.locator("#w img.rotp-qr")
    page.locator("#w img.rotp-whatsapp").wait_for(state="visible")
    assert [qrs.nth(i).get_attribute("src") for i in range(qrs.count())] == [
        created["qr_svg_url"],
        created["whatsapp"]["qr_svg_url"],
    ]
    page.context.close()


def test_widget_turns_verified_when_the_whatsapp_message_arrives(server, browser, integrator):
    created = create(server, channels=["whatsapp"])
    page = widget_page(server, browser, integrator, created, **DESKTOP)
    page.locator("#w img.rotp-whatsapp").wait_for(state="visible")
    page.wait_for_timeout(300)
    send_whatsapp(server, created, mid="wamid.browser-widget")
    page.locator('#w[data-status="verified"]').wait_for(timeout=10_000)
    assert page.locator("#w .rotp-status").inner_text() == "Your phone number is verified."
    assert page.locator("#w img.rotp-whatsapp").count() == 0
    status = requests.get(created["status_url"], timeout=10).json()
    assert (status["status"], status["channel"]) == ("verified", "whatsapp")
    page.context.close()
