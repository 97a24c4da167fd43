"""The hosted page in headless Chromium against a real server process.

Screenshots go to test-artifacts/ (kept out of git); docs/ holds copies of two of them.
"""

from __future__ import annotations

import functools
import secrets
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from tests.conftest import NUMBER, SIM_SECRET, base_settings
from tests.e2e.live import signed_sms
from tests.e2e.server import free_port, running_server, write_config

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
AUTH = {"Authorization": "Bearer test-api-key-0123456789-abcdefghijk"}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


@pytest.fixture(scope="module")
def server(tmp_path_factory, integrator):
    tmp = tmp_path_factory.mktemp("browser")
    port = free_port()
    streams = {"max_per_ip": 0, "heartbeat": 2}
    raw = base_settings(tmp, codes={"min_ttl": 10, "renew_cooldown": 2}, streams=streams, server={})
    raw["server"] |= {"public_url": f"http://127.0.0.1:{port}", "name": "Example Shop"}
    raw["numbers"] = [{"number": NUMBER, "provider": "simulator"}]
    raw["api"] |= {"cors_origins": [integrator[1]]}  # the widget's site
    config = write_config(tmp / "config.toml", raw)
    with running_server(tmp, config=config, port=port, workers=1) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed")  # .ci/run installs it
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield playwright, launched
        launched.close()


def create(server, **body):
    answer = requests.post(server + "/api/v1/challenges", json=body, headers=AUTH, timeout=10)
    assert answer.status_code == 201
    return answer.json()


def open_page(browser, url, **options):
    _, chromium = browser
    context = chromium.new_context(**options)
    page = context.new_page()
    page.goto(url)
    return page


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def send_sms(server, created):
    body, headers = signed_sms(SIM_SECRET, NUMBER, created["body"])
    answer = requests.post(server + "/webhooks/simulator", data=body, headers=headers, timeout=10)
    assert answer.json() == {"outcomes": ["matched"]}


def test_desktop_page_shows_the_qr_code(server, browser):
    created = create(server, phone="+33612345678")
    page = open_page(browser, created["verify_url"], **DESKTOP)
    qr = page.locator("#qr")
    qr.wait_for(state="visible")
    page.wait_for_function("() => document.getElementById('qr').naturalWidth > 0")  # it loads
    assert page.locator("#send").count() == 0
    assert page.locator("#sms-body").inner_text() == created["body"]
    shot(page, "desktop")
    page.context.close()


def test_phone_page_shows_the_button_with_the_exact_sms_link(server, browser):
    playwright, _ = browser
    created = create(server)
    page = open_page(browser, created["verify_url"], **playwright.devices["Pixel 7"])
    button = page.locator("#send")
    button.wait_for(state="visible")
    assert button.get_attribute("href") == created["sms_uri"]
    assert button.inner_text() == "Send the SMS"
    assert page.locator("#qr").count() == 0
    shot(page, "phone")
    page.context.close()


def test_open_page_shows_verified_without_reload_after_the_webhook(server, browser):
    created = create(server)
    page = open_page(browser, created["verify_url"], **DESKTOP)
    page.locator("#qr").wait_for(state="visible")
    page.evaluate("window.notReloaded = true")
    page.wait_for_timeout(300)  # let the EventSource connect; delivery does not depend on it
    send_sms(server, created)
    status = page.locator("#status")
    status.filter(has_text="Your phone number is verified.").wait_for(timeout=10_000)
    assert page.locator("section.done-verified").is_visible()
    assert not page.locator("#qr").is_visible()
    assert page.evaluate("window.notReloaded === true")
    shot(page, "verified")
    page.context.close()


def test_page_shows_the_expired_state_at_expiry(server, browser):
    created = create(server, ttl=10)
    page = open_page(browser, created["verify_url"], **DESKTOP)
    page.evaluate("window.notReloaded = true")
    page.locator("section.done-expired").wait_for(state="visible", timeout=20_000)
    assert page.locator("#status").inner_text() == "This code has expired."
    assert page.evaluate("window.notReloaded === true")
    status = requests.get(created["status_url"], timeout=10).json()["status"]
    assert status == "expired"
    shot(page, "expired")
    page.context.close()


def test_french_browser_gets_the_page_in_french(server, browser):
    created = create(server)
    page = open_page(browser, created["verify_url"], locale="fr-FR", **DESKTOP)
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.locator("h1:visible").inner_text() == "Vérifiez votre numéro de téléphone"
    assert page.locator("#status").inner_text() == "En attente de votre SMS…"
    shot(page, "french")
    page.context.close()


def test_page_without_javascript_offers_a_refresh(server, browser):
    created = create(server)
    page = open_page(browser, created["verify_url"], java_script_enabled=False, **DESKTOP)
    assert page.get_by_role("link", name="Refresh the status").is_visible()
    assert page.locator('meta[http-equiv="refresh"]').count() == 1
    send_sms(server, created)
    page.reload()
    assert page.locator("section.done-verified").is_visible()
    page.context.close()


@pytest.fixture(scope="module")
def integrator(tmp_path_factory):
    """A second loopback web server: the integrator's site, on another origin."""
    root = tmp_path_factory.mktemp("integrator")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://localhost:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def integrator_page(browser, integrator, html, **options):
    """Open `html` on the integrator's origin."""
    root, origin = integrator
    name = f"page-{secrets.token_hex(4)}.html"
    (root / name).write_text(f"<!doctype html><meta charset=utf-8><title>Shop</title>{html}")
    _, chromium = browser
    page = chromium.new_context(**options).new_page()
    page.goto(f"{origin}/{name}")
    return page


def test_widget_on_another_origin_shows_the_qr_and_turns_verified(server, browser, integrator):
    created = create(server)
    html = (
        f'<link rel="stylesheet" href="{server}/static/reverse-otp.css">'
        f'<div id="w" data-reverse-otp-token="{created["token"]}" '
        f'data-reverse-otp-server="{server}" data-reverse-otp-lang="en"></div>'
        f'<script src="{server}/static/reverse-otp.js"></script>'
    )
    page = integrator_page(browser, integrator, html, **DESKTOP)
    page.locator("#w .rotp-qr").wait_for(state="visible")
    assert page.locator("#w .rotp-text").inner_text() == created["body"]
    page.wait_for_timeout(300)
    send_sms(server, created)
    page.locator('#w[data-status="verified"]').wait_for(timeout=10_000)
    assert page.locator("#w .rotp-status").inner_text() == "Your phone number is verified."
    page.context.close()


def test_widget_on_a_phone_shows_the_send_button(server, browser, integrator):
    playwright, _ = browser
    created = create(server)
    html = (
        f'<div data-reverse-otp-token="{created["token"]}" data-reverse-otp-server="{server}">'
        f'</div><script src="{server}/static/reverse-otp.js"></script>'
    )
    page = integrator_page(browser, integrator, html, **playwright.devices["Pixel 7"])
    button = page.locator(".rotp-button")
    button.wait_for(state="visible")
    assert button.get_attribute("href") == created["sms_uri"]
    page.context.close()


def test_newcomer_flow_in_development_mode(tmp_path, browser):
    """Demo page, hosted page, phone simulator: the whole flow in one browser."""
    _, chromium = browser
    with running_server(tmp_path, config=None, workers=1) as base:
        context = chromium.new_context(**DESKTOP)
        demo = context.new_page()
        demo.goto(base + "/")
        with context.expect_page() as opened:
            demo.get_by_role("button", name="Try it").click()
        hosted = opened.value
        hosted.locator("#qr").wait_for(state="visible")
        hosted.wait_for_function("() => document.getElementById('qr').naturalWidth > 0")  # it loads
        body = hosted.locator("#sms-body").inner_text()
        with context.expect_page() as opened:
            hosted.get_by_role("link", name="Development: send it from the phone simulator").click()
        phone = opened.value
        # The page's script fills the text from the link once it runs; wait for it.
        phone.wait_for_function("() => document.getElementById('text').value !== ''")
        assert phone.locator("#text").input_value() == body
        phone.get_by_role("button", name="Send").click()
        phone.locator("#phone-result").filter(has_text="matched").wait_for(timeout=10_000)
        hosted.locator("section.done-verified").wait_for(state="visible", timeout=10_000)
        context.close()


def test_get_a_new_code_after_the_cooldown_then_verify_with_it(server, browser):
    created = create(server)
    page = open_page(browser, created["verify_url"], **DESKTOP)
    renew = page.get_by_role("button", name="Get a new code")
    page.wait_for_function("() => !document.getElementById('renew').disabled", timeout=10_000)
    renew.click()
    body = page.locator("#sms-body")
    page.wait_for_function(
        "old => document.getElementById('sms-body').textContent !== old", arg=created["body"]
    )
    assert page.locator("#notice").inner_text().startswith("Here is a new code.")
    send_sms(server, created | {"body": body.inner_text()})
    page.locator("section.done-verified").wait_for(state="visible", timeout=10_000)
    page.context.close()
