"""The fallback end to end: a real server sends a code through a provider stand-in (a real
HTTP server on loopback, speaking Twilio's Messages API), and the code from the captured
request verifies the challenge through the hosted page in Chromium and through /check.

Loopback is a private destination: the sender reaches it only because its settings say
`allow_private = true`, the same switch an android-sms-gateway on the LAN needs.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qsl

import pytest
import requests

from app.web import i18n
from tests.conftest import NUMBER, base_settings
from tests.e2e.server import free_port, running_server, write_config
from tests.e2e.test_browser import AUTH, DESKTOP, browser, open_page, shot  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SID = "AC" + "c" * 32
PHONE = "+33612345678"
LOCALES = i18n.FOLDER


class Provider(BaseHTTPRequestHandler):
    """Answers like Twilio's Messages resource and keeps every request."""

    captured: ClassVar[list[dict[str, str]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        fields = dict(parse_qsl(self.rfile.read(length).decode()))
        fields["_path"] = self.path
        fields["_auth"] = self.headers.get("Authorization", "")
        self.captured.append(fields)
        body = json.dumps({"sid": f"SM{len(self.captured):032x}", "status": "queued"}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def provider():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", Provider.captured
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory, provider):
    tmp = tmp_path_factory.mktemp("outbound")
    port = free_port()
    raw = base_settings(tmp, server={})
    raw["server"] |= {"public_url": f"http://127.0.0.1:{port}", "name": "Example Shop"}
    raw["numbers"] = [{"number": NUMBER, "provider": "simulator"}]
    raw["fallback"] = {"allowed_countries": ["FR"]}
    config = write_config(tmp / "config.toml", raw)
    sender = {
        "kind": "twilio", "name": "stub", "account_sid": SID, "auth_token": "stub-token",
        "from": "+15005550006", "base_url": provider[0] + "/2010-04-01", "allow_private": True,
    }  # fmt: skip
    lines = ["[[senders]]"] + [f"{k} = {json.dumps(v)}" for k, v in sender.items()]
    config.write_text(config.read_text() + "\n".join(lines) + "\n")
    with running_server(tmp, config=config, port=port, workers=1) as base:
        yield base


def create(server):
    answer = requests.post(
        server + "/api/v1/challenges", json={"phone": PHONE}, headers=AUTH, timeout=10
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def code_in(captured: dict[str, str]) -> str:
    match = re.search(r"\n\n@127\.0\.0\.1 #(\d{6})$", captured["Body"])
    assert match, captured["Body"]
    return match.group(1)


def test_the_code_sent_through_the_provider_verifies_through_check(server, provider):
    _, captured = provider
    created = create(server)
    sent = requests.post(
        f"{server}/api/v1/challenges/{created['id']}/send", headers=AUTH, timeout=10
    )
    assert sent.status_code == 202, sent.text
    request = captured[-1]
    assert request["_path"] == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert request["To"] == PHONE and request["From"] == "+15005550006"
    checked = requests.post(
        f"{server}/api/v1/challenges/{created['id']}/check",
        json={"code": code_in(request)}, headers=AUTH, timeout=10,
    )  # fmt: skip
    assert checked.status_code == 200, checked.text
    assert checked.json()["status"] == "verified"
    assert checked.json()["method"] == "outbound_sms"


def test_the_hosted_page_asks_for_a_code_and_verifies_with_it(server, provider, browser):  # noqa: F811
    _, captured = provider
    created = create(server)
    page = open_page(browser, created["verify_url"], **DESKTOP)
    code_input = page.locator("#outbound-code")
    assert code_input.get_attribute("autocomplete") == "one-time-code"
    before = len(captured)
    page.locator("#outbound-send").click()
    code_input.wait_for(state="visible")  # shown once the send was answered 202
    assert len(captured) == before + 1
    code_input.fill(code_in(captured[-1]))
    shot(page, "outbound-code")
    page.locator("#outbound-form button[type=submit]").click()
    page.locator("section.done-verified").wait_for(state="visible", timeout=10_000)
    shown = requests.get(f"{server}/api/v1/challenges/{created['id']}", headers=AUTH, timeout=10)
    assert shown.json()["status"] == "verified" and shown.json()["method"] == "outbound_sms"
    page.context.close()


def test_no_outbound_form_without_an_expected_phone(server, browser):  # noqa: F811
    answer = requests.post(server + "/api/v1/challenges", json={}, headers=AUTH, timeout=10)
    page = open_page(browser, answer.json()["verify_url"], **DESKTOP)
    page.locator("#qr").wait_for(state="visible")
    assert page.locator("#outbound").count() == 0
    page.context.close()


def create_in(server, locale, phone):
    answer = requests.post(
        server + "/api/v1/challenges",
        json={"phone": phone, "locale": locale}, headers=AUTH, timeout=10,
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    return answer.json()


def words(locale):
    return json.loads((LOCALES / f"{locale}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(("locale", "phone"), [("fr", "+33612345601"), ("ar", "+33612345602")])
def test_the_code_form_speaks_the_pages_language_and_still_verifies(
    server,
    provider,
    browser,  # noqa: F811
    locale,
    phone,  # one phone each: the pumping guards allow a few codes per phone and hour
):
    _, captured = provider
    t, english = words(locale), words("en")
    created = create_in(server, locale, phone)
    page = open_page(browser, created["verify_url"], **DESKTOP)
    direction = page.evaluate("getComputedStyle(document.documentElement).direction")
    assert direction == ("rtl" if locale == "ar" else "ltr")
    assert page.locator("html").get_attribute("dir") == direction
    box = page.locator("#outbound")
    assert box.get_attribute("aria-label") == t["ob_region"]
    send = page.locator("#outbound-send")
    assert send.inner_text() == t["ob_send"] != english["ob_send"]
    assert t["ob_ask"] in box.inner_text()
    page.locator("#outbound-send").click()
    page.locator("#outbound-code").wait_for(state="visible")
    note = page.locator("#outbound-note")
    assert note.inner_text() == t["ob_sent"] != english["ob_sent"]
    assert send.inner_text() == t["ob_send_again"]
    label = page.locator("label[for=outbound-code]")
    ending = label.locator("bdi.phone-ending")
    before, after = t["ob_label"].split("{phone}")
    assert label.inner_text() == before + ending.inner_text() + after
    assert ending.evaluate("e => getComputedStyle(e).direction") == "ltr"
    assert ending.inner_text().endswith(phone[-2:])
    submit = page.locator("#outbound-form button[type=submit]")
    assert submit.inner_text() == t["ob_verify"]
    # No English text is left in the form.
    shown = box.inner_text()
    for key in ("ob_ask", "ob_send", "ob_send_again", "ob_verify", "ob_sent"):
        assert english[key] not in shown, key
    # Asking again at once: the cooldown message, in the page's language, its number left to right.
    page.evaluate("document.getElementById('outbound-send').disabled = false")
    send.click()
    note.locator("bdi").wait_for(state="attached")
    seconds = note.locator("bdi").inner_text()
    assert int(seconds) > 0
    assert note.inner_text() == t["ob_wait"].replace("{seconds}", seconds)
    assert note.locator("bdi").evaluate("e => getComputedStyle(e).direction") == "ltr"
    # A wrong code is told in the page's language; the right one verifies.
    code = code_in(captured[-1])
    page.locator("#outbound-code").fill("000000" if code != "000000" else "111111")
    submit.click()
    page.wait_for_function(
        "t => document.getElementById('outbound-note').textContent === t", arg=t["ob_wrong"]
    )
    page.locator("#outbound-code").fill(code)
    shot(page, f"outbound-code-{locale}")
    submit.click()
    page.locator("section.done-verified").wait_for(state="visible", timeout=10_000)
    assert page.locator("section.done-verified h1").inner_text() == t["done_verified"]
    answer = requests.get(f"{server}/api/v1/challenges/{created['id']}", headers=AUTH, timeout=10)
    assert answer.json()["status"] == "verified" and answer.json()["method"] == "outbound_sms"
    page.context.close()
