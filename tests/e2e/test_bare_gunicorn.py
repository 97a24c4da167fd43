"""`gunicorn wsgi:app` run by hand from the project folder: gunicorn.conf.py makes it serve
like `reverse-otp serve`, so an open live stream does not hold the whole server."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import requests

from tests.conftest import AUTH, base_settings
from tests.e2e.live import SseClient
from tests.e2e.server import free_port, launched, server_environ, write_config

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e


def test_bare_gunicorn_answers_other_requests_while_a_stream_is_open(tmp_path):
    raw = base_settings(tmp_path)
    raw["server"]["public_url"] = "http://127.0.0.1"
    config = write_config(tmp_path / "config.toml", raw)
    port = free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    with launched(
        [str(gunicorn), "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT,  # where gunicorn finds gunicorn.conf.py, as an operator would run it
        env=server_environ(config),
        port=port,
        log=tmp_path / "gunicorn.log",
    ):
        base = f"http://127.0.0.1:{port}"
        created = requests.post(
            base + "/api/v1/challenges",
            json={"phone": "+33612345678"},
            headers=AUTH,
            timeout=10,
        )
        assert created.status_code == 201, created.text
        stream = SseClient(base, f"/api/v1/status/{created.json()['token']}/events")
        try:
            assert stream.next_event()[0] == "pending"
            # A sync worker would still be busy with the stream: this would time out.
            assert requests.get(base + "/healthz", timeout=3).status_code == 200
        finally:
            stream.close()
    assert b"gevent is not patched" not in (tmp_path / "gunicorn.log").read_bytes()
