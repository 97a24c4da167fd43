"""Provider webhooks through the real server process (gunicorn, two workers)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests

from tests.conftest import AUTH, base_settings
from tests.e2e.server import free_port, running_server, write_config
from tests.providers.samples import SAMPLES, SENDER, build, settings_for

pytestmark = pytest.mark.e2e


def post(base: str, sample) -> requests.Response:
    return requests.request(
        sample.method, base + sample.path, headers=sample.headers, data=sample.body, timeout=10
    )


@pytest.mark.parametrize("name", ["telnyx", "vonage"])
def test_real_server_verifies_a_signed_webhook_and_refuses_a_forgery(name, tmp_path):
    raw = base_settings(tmp_path, **settings_for(name))
    port = free_port()
    raw["server"]["public_url"] = f"http://127.0.0.1:{port}"
    config = write_config(tmp_path / "config.toml", raw)
    with running_server(tmp_path, config=config, port=port) as base:
        created = requests.post(
            base + "/api/v1/challenges", json={}, headers=AUTH, timeout=10
        ).json()
        now = datetime.now(UTC)
        genuine = build(name, created["body"], SENDER, SAMPLES[name].number, "srv-1", now)
        assert post(base, SAMPLES[name].tamper(genuine, SENDER)).status_code == 403
        status = requests.get(
            base + f"/api/v1/challenges/{created['id']}", headers=AUTH, timeout=10
        )
        assert status.json()["status"] == "pending"
        assert post(base, genuine).status_code in (200, 204)
        assert post(base, genuine).status_code in (200, 204)  # a retry is acknowledged
        status = requests.get(
            base + f"/api/v1/challenges/{created['id']}", headers=AUTH, timeout=10
        )
        assert (status.json()["status"], status.json()["verified_phone"]) == ("verified", SENDER)
