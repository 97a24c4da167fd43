"""The funnel in a real browser: opening the page and tapping the button reach the dashboard,
and the dashboard works on a phone (390 px), search by challenge id included."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import base_settings
from tests.e2e.server import running_server, write_config

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
KEY = "browser-admin-key-" + "0123456789abcdefghij"
ADMIN = {"Authorization": f"Bearer {KEY}"}
AUTH = {"Authorization": "Bearer test-api-key-0123456789-abcdefghijk"}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
    "is_mobile": True,
    "has_touch": True,
}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def create(base: str, phone: str) -> dict:
    created = requests.post(
        f"{base}/api/v1/challenges", json={"phone": phone}, headers=AUTH, timeout=10
    )
    assert created.status_code == 201, created.text
    return created.json()


def local(base: str, created: dict) -> str:
    """The hosted page on this test server (verify_url names the configured public URL)."""
    return base + "/v/" + created["verify_url"].rsplit("/v/", 1)[1]


def funnel_row(base: str) -> dict[str, int]:
    html = requests.get(f"{base}/admin", headers=ADMIN, timeout=10).text
    assert 'id="funnel"' in html
    row = re.search(r'<tr data-app="default">(.*?)</tr>', html, re.S)
    if row is None:
        return {}
    return {k: int(v) for k, v in re.findall(r'<td data-step="(\w+)">(\d+)', row.group(1))}


def wait_for_counts(base: str, wanted: dict[str, int], timeout: float = 15) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while True:
        counts = funnel_row(base)
        if all(counts.get(k) == v for k, v in wanted.items()) or time.monotonic() > deadline:
            return counts
        time.sleep(0.2)


def test_opening_the_page_and_tapping_send_show_up_in_the_funnel(tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed")
    config = write_config(tmp_path / "config.toml", base_settings(tmp_path, admin={"key": KEY}))
    with (
        running_server(tmp_path, config=config, workers=1) as base,
        playwright.sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        assert funnel_row(base) == {}  # no challenge yet: no app row

        on_phone = create(base, "+33612345678")
        phone = browser.new_context(**PHONE)
        page = phone.new_page()
        page.goto(local(base, on_phone))
        button = page.locator("#send")
        button.wait_for(state="visible")
        counts = wait_for_counts(base, {"opened": 1})
        assert counts == {"created": 1, "opened": 1, "sent": 0, "received": 0, "verified": 0}
        button.evaluate("a => a.addEventListener('click', e => e.preventDefault())")  # stay
        button.tap()
        counts = wait_for_counts(base, {"sent": 1})
        assert counts["sent"] == 1

        on_desktop = create(base, "+33612345679")
        desktop = browser.new_context(**DESKTOP)
        shown = desktop.new_page()
        shown.goto(local(base, on_desktop))
        shown.locator("#qr").wait_for(state="visible")
        counts = wait_for_counts(base, {"opened": 2, "sent": 2})
        assert counts == {"created": 2, "opened": 2, "sent": 2, "received": 0, "verified": 0}
        shown.reload()  # a second visit counts nothing more
        time.sleep(1)
        assert funnel_row(base) == counts

        # The operator, on the same phone: the dashboard fits the screen; search by id.
        admin = phone.new_page()
        admin.goto(f"{base}/admin")
        admin.fill("#key", KEY)
        admin.click("button[type=submit]")
        admin.wait_for_url(f"{base}/admin")
        admin.locator("#funnel").wait_for(state="visible")
        width = admin.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the dashboard is {width} px wide on a 390 px screen"
        # Readable, not squeezed: the funnel's steps stack one per row, full width; the
        # header's controls stay on screen.
        steps = admin.locator("#funnel .steps li")
        assert steps.count() == 5
        boxes = [steps.nth(i).bounding_box() for i in range(5)]
        assert all(b["width"] >= 300 for b in boxes), boxes
        assert len({round(b["x"]) for b in boxes}) == 1
        for control in ("nav.windows a >> nth=-1", ".top button", "#q"):
            box = admin.locator(control).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390, (control, box)
        ARTIFACTS.mkdir(exist_ok=True)
        admin.screenshot(path=str(ARTIFACTS / "admin-funnel-390.png"), full_page=True)
        admin.fill("#q", on_phone["id"][:10])
        admin.click("form.search button[type=submit]")
        admin.locator("#found").wait_for(state="visible")
        found = admin.locator("#found").inner_text()
        assert on_phone["id"] in found
        assert "created, opened, sent" in found
        assert on_desktop["id"] not in found or on_desktop["id"][:10] == on_phone["id"][:10]
        browser.close()
