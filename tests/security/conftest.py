"""Fixtures of the security tests."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from app import create_app
from app.runtime import EXTENSION


@pytest.fixture
def make_app() -> Any:
    """Build extra apps from settings; their database connections are closed afterwards."""
    made: list[Flask] = []

    def build(settings: Any) -> Flask:
        app = create_app(settings)
        made.append(app)
        return app

    yield build
    for app in made:
        app.extensions[EXTENSION].ctx.store.dispose()
