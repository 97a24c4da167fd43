from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.providers import helpers


@pytest.fixture
def make_app(tmp_path, clock) -> Iterator[Any]:
    """Build apps with chosen providers (helpers.provider_app), closing their stores after."""
    built = []

    def make(*providers: str, **sections: Any):
        app = helpers.provider_app(tmp_path, clock, *providers, **sections)
        built.append(app)
        return app

    yield make
    for app in built:
        app.extensions["reverse_otp"].ctx.store.dispose()
