"""A person logs in to /admin in a real browser and sees the charts."""

from __future__ import annotations

import pytest
import requests

from tests.conftest import base_settings
from tests.e2e.server import running_server, write_config

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
KEY = "browser-admin-key-" + "0123456789abcdefghij"


def test_operator_logs_in_and_sees_the_dashboard(tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    config = write_config(tmp_path / "config.toml", base_settings(tmp_path, admin={"key": KEY}))
    with running_server(tmp_path, config=config, workers=1) as base:
        headers = {"Authorization": "Bearer test-api-key-0123456789-abcdefghijk"}
        for _ in range(3):
            requests.post(f"{base}/api/v1/challenges", json={}, headers=headers, timeout=5)
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium")
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda m: errors.append(m.text) if "Policy" in m.text else None)
            page.on("response", lambda r: errors.append(r.url) if _unexpected(r) else None)
            page.goto(f"{base}/admin")
            page.fill("#key", "wrong")
            page.click("button[type=submit]")
            assert "not the admin key" in page.content()
            page.fill("#key", KEY)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/admin")
            assert page.locator("svg.chart").count() == 7
            assert page.locator(".tile .n").first.inner_text() == "3"
            assert errors == []
            browser.close()


def _unexpected(response: object) -> bool:
    """A failed load other than the 401s carrying the login form (and the absent favicon)."""
    url, status = getattr(response, "url", ""), getattr(response, "status", 0)
    return status >= 400 and status != 401 and not url.endswith("/favicon.ico")
