"""The hosted page for people, in headless Chromium against a real server: the way back to
the app, the languages (Arabic right to left), feedback on a message from another number,
the wording, and the screenshots in docs/screenshots/.

The screenshots go to test-artifacts/screenshots unless REVERSE_OTP_SCREENSHOTS names a
folder; `scripts/screenshots.sh` runs this file with docs/screenshots to regenerate them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
import requests

from tests.conftest import NUMBER, SIM_SECRET, base_settings
from tests.e2e.live import signed_sms
from tests.e2e.server import free_port, running_server, write_config
from tests.e2e.test_browser import ARGS, AUTH, CHROMIUM
from tests.test_proofs import key_file

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("REVERSE_OTP_SCREENSHOTS") or ROOT / "test-artifacts/screenshots")
SHOP = "https://shop.example"
PHONE = "+33612345678"
DESKTOP = {"viewport": {"width": 1366, "height": 900}}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pages")
    port = free_port()
    raw = base_settings(
        tmp,
        streams={"max_per_ip": 0, "heartbeat": 2},
        page={"return_origins": [SHOP]},
        limits={"per_phone": "0/hour"},  # many pages for one test phone
        proofs={"key_file": key_file(tmp, "proofs")},
    )
    raw["server"] |= {"public_url": f"http://127.0.0.1:{port}", "name": "Example Shop"}
    raw["numbers"] = [{"number": NUMBER, "provider": "simulator"}]
    with running_server(
        tmp, config=write_config(tmp / "config.toml", raw), port=port, workers=1
    ) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield playwright, launched
        launched.close()


def create(server, **body):
    answer = requests.post(server + "/api/v1/challenges", json=body, headers=AUTH, timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.json()


def send(server, text, sender=PHONE):
    body, headers = signed_sms(SIM_SECRET, NUMBER, text, sender)
    answer = requests.post(server + "/webhooks/simulator", data=body, headers=headers, timeout=10)
    return answer.json()["outcomes"]


def open_page(browser, url, **options):
    _, chromium = browser
    context = chromium.new_context(**options)
    # The integrator's site, answered by the browser itself: no network.
    context.route(
        SHOP + "/**",
        lambda route: route.fulfill(body="<h1>Back at the shop</h1>", content_type="text/html"),
    )
    page = context.new_page()
    page.goto(url)
    return page


def test_after_verification_the_page_shows_success_then_returns_to_the_app(server, browser):
    created = create(server, phone=PHONE, return_url=SHOP + "/signup?step=3")
    page = open_page(browser, created["verify_url"], **DESKTOP)
    page.locator("#qr").wait_for(state="visible")
    page.wait_for_timeout(300)  # let the stream connect
    assert send(server, created["body"]) == ["matched"]
    page.locator("#redirecting").wait_for(state="visible", timeout=10_000)
    assert page.locator("section.done-verified").is_visible()
    assert page.url == created["verify_url"]  # the success shows for a moment first
    page.wait_for_url(SHOP + "/**", timeout=10_000)
    parts = urlsplit(page.url)
    assert parse_qsl(parts.query) == [
        ("step", "3"),
        ("challenge_id", created["id"]),
        ("status", "verified"),
    ]
    assert page.locator("h1").inner_text() == "Back at the shop"
    page.context.close()


def test_the_automatic_return_carries_the_proof_in_the_fragment(server, browser):
    created = create(server, phone=PHONE, return_url=SHOP + "/signup?step=3#top")
    page = open_page(browser, created["verify_url"], **DESKTOP)
    page.locator("#qr").wait_for(state="visible")
    page.wait_for_timeout(300)  # let the stream connect
    assert send(server, created["body"]) == ["matched"]
    page.wait_for_url(SHOP + "/**", timeout=10_000)
    assert dict(parse_qsl(urlsplit(page.url).query))["status"] == "verified"
    fragment = page.evaluate("location.hash")
    assert fragment.startswith("#top&proof=")
    proof = page.evaluate("new URLSearchParams(location.hash.slice(1)).get('proof')")
    jwks = requests.get(server + "/.well-known/jwks.json", timeout=10).json()
    keys = jwt.PyJWKSet.from_dict(jwks)
    claims = jwt.decode(
        proof,
        keys[jwt.get_unverified_header(proof)["kid"]],
        algorithms=["ES256"],
        audience="default",
        issuer=server,
    )
    assert (claims["sub"], claims["jti"]) == (PHONE, created["id"])
    page.context.close()


def test_a_cancelled_challenge_offers_continue_with_its_status(server, browser):
    created = create(server, return_url=SHOP + "/signup")
    requests.post(f"{server}/api/v1/challenges/{created['id']}/cancel", headers=AUTH, timeout=10)
    page = open_page(browser, created["verify_url"], locale="fr-FR", **DESKTOP)
    link = page.get_by_role("link", name="Continuer vers Example Shop")
    page.wait_for_timeout(500)
    assert page.url == created["verify_url"]  # no automatic return but after verification
    link.click()
    page.wait_for_url(SHOP + "/**")
    assert dict(parse_qsl(urlsplit(page.url).query))["status"] == "cancelled"
    page.context.close()


def test_arabic_page_is_laid_out_right_to_left(server, browser):
    created = create(server, phone=PHONE, locale="ar")
    page = open_page(browser, created["verify_url"], **DESKTOP)
    assert page.evaluate("getComputedStyle(document.documentElement).direction") == "rtl"
    # The title's text starts at the right edge of its box and leaves room on the left.
    edges = page.evaluate(
        """() => { const h = document.querySelector('h1:not([hidden])');
        const r = document.createRange(); r.selectNodeContents(h);
        const box = h.getBoundingClientRect(), text = r.getBoundingClientRect();
        return [box.left, box.right, text.left, text.right]; }"""
    )
    assert abs(edges[1] - edges[3]) < 2 and edges[2] - edges[0] > 50
    # Numbers keep their own left-to-right order inside the right-to-left page.
    assert page.evaluate("getComputedStyle(document.getElementById('sms-to')).direction") == "ltr"
    assert page.locator("#sms-body").inner_text() == created["body"]
    page.context.close()


def test_a_message_from_another_number_is_reported_live(server, browser):
    created = create(server, phone=PHONE)
    page = open_page(browser, created["verify_url"], **DESKTOP)
    warning = page.locator("#wrong-sender")
    page.wait_for_timeout(300)
    assert warning.is_hidden()
    assert send(server, created["body"], sender="+14155550199") == ["wrong_sender"]
    warning.wait_for(state="visible", timeout=10_000)
    assert "from another number" in warning.inner_text()
    assert "0199" not in page.content()
    page.context.close()


@pytest.mark.parametrize("locale", ["en", "fr", "de", "ar"])
def test_the_sms_text_never_breaks_inside_a_word_on_a_narrow_phone(server, browser, locale):
    playwright, _ = browser
    created = create(server, locale=locale)  # discovery: the long code, in groups
    page = open_page(browser, created["verify_url"], **playwright.devices["iPhone 13"])
    broken = page.evaluate(
        """() => { const node = document.getElementById('sms-body').firstChild, bad = [];
        for (const m of node.textContent.matchAll(/\\S+/g)) {
          const r = document.createRange();
          r.setStart(node, m.index); r.setEnd(node, m.index + m[0].length);
          const lines = new Set([...r.getClientRects()].map(x => Math.round(x.top)));
          if (lines.size > 1) bad.push(m[0]); }
        return bad; }"""
    )
    assert broken == []
    page.context.close()


def test_the_page_counts_down_the_time_left(server, browser):
    created = create(server, ttl=300)
    page = open_page(browser, created["verify_url"], **DESKTOP)
    first = page.locator("#countdown").inner_text()
    page.wait_for_timeout(2100)
    second = page.locator("#countdown").inner_text()
    assert re.fullmatch(r"[45]:\d\d", first) and re.fullmatch(r"4:\d\d", second) and second < first
    assert "UTC" not in page.locator("main").inner_text()
    page.context.close()


def test_an_unknown_link_shows_a_page_in_the_browsers_language(server, browser):
    page = open_page(browser, server + "/v/no-such-token", locale="de-DE", **DESKTOP)
    assert page.locator("h1").inner_text() == "Dieser Link funktioniert nicht mehr"
    assert page.evaluate("document.contentType") == "text/html"
    page.context.close()


@pytest.mark.parametrize("locale", ["en", "fr", "ar"])
@pytest.mark.parametrize("width", [390, 1366])
def test_screenshots_of_the_page(server, browser, locale, width):
    playwright, _ = browser
    created = create(server, phone=PHONE, locale=locale)
    options = playwright.devices["iPhone 13"] if width == 390 else DESKTOP
    page = open_page(browser, created["verify_url"], **options)
    assert page.viewport_size["width"] == width
    (page.locator("#send") if width == 390 else page.locator("#qr")).wait_for(state="visible")
    page.wait_for_function(
        "() => !document.getElementById('qr') || document.getElementById('qr').naturalWidth > 0"
    )
    # Nothing wider than the screen (a phone would zoom the whole page out).
    assert page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]") == [width] * 2
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"verify-{locale}-{width}.png"), full_page=True)
    page.context.close()
