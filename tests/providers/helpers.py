"""Apps with chosen providers enabled, and challenges on their numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from app import create_app
from app.clock import FakeClock
from app.config import load
from tests.conftest import AUTH, base_settings
from tests.providers.samples import settings_for


def provider_app(tmp_path: Path, clock: FakeClock, *providers: str, **sections: Any) -> Flask:
    """A production-mode app with these providers, each on its own number."""
    raw = settings_for(*providers)
    raw["phones"] = {"default_region": "US"}
    raw.update(sections)
    settings = load(overrides=base_settings(tmp_path, **raw), environ={})
    return create_app(settings, clock=clock)


def new_challenge(client: Any, **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/challenges", json=body, headers=AUTH)
    assert response.status_code == 201, response.json
    created: dict[str, Any] = response.json
    return created


def challenge(client: Any, challenge_id: str) -> dict[str, Any]:
    found: dict[str, Any] = client.get(f"/api/v1/challenges/{challenge_id}", headers=AUTH).json
    return found
