"""The README's start: `reverse-otp serve` in an empty folder migrates its database itself."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import create_engine

from app.store import migrate
from tests.e2e.server import running_server

pytestmark = pytest.mark.e2e


def test_serve_without_config_creates_the_schema_and_answers(tmp_path):
    with running_server(tmp_path, workers=2) as base:
        key = (tmp_path / "instance" / "api_key").read_text().strip()
        response = requests.post(
            base + "/api/v1/challenges",
            json={},
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        )

    assert response.status_code == 201
    engine = create_engine(f"sqlite:///{tmp_path / 'instance' / 'reverse-otp.db'}")
    try:
        assert migrate.current(engine) == migrate.head()
    finally:
        engine.dispose()
