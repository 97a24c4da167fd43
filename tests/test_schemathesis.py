"""Schemathesis drives the whole API from its own description: no 5xx, no schema violation.

Runs in-process on the WSGI app (with the admin key and the metrics token configured, so
their refusals are exercised too), a bounded number of examples per operation so CI stays
quick. Requests carry the API key; endpoints needing another secret answer 401.

One check is left out: positive_data_acceptance. A phone number can be a well-formed string
and still not be a number (or be premium-rate), and metadata can be an object over 2 KiB;
JSON Schema cannot say so, and answering 400 naming the problem is the contract. Every other
check runs, including not_a_server_error, response_schema_conformance, status codes and
content types.

The app is built at import (pytest-9 breaks schemathesis' fixture-based loader), on its own
SQLite file: this test is about the HTTP contract, the engines are covered elsewhere.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from app import create_app
from app.config import load
from tests.conftest import AUTH, base_settings, runtime

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "25"))
_folder = Path(tempfile.mkdtemp(prefix="reverse-otp-schemathesis-"))
_app = create_app(
    load(
        overrides=base_settings(
            _folder,
            database={"url": f"sqlite:///{_folder / 'api.db'}"},
            admin={"key": "admin-key-" + "0123456789abcdefghijkl"},
            metrics={"token": "metrics-0123456789abcdefghijklmn"},
        ),
        environ={},
    )
)
schema = schemathesis.openapi.from_wsgi("/openapi.json", _app)


@pytest.fixture(scope="module", autouse=True)
def _dispose() -> Iterator[None]:
    yield
    runtime(_app).ctx.store.dispose()  # type: ignore[attr-defined]
    shutil.rmtree(_folder, ignore_errors=True)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_api_answers_as_described(case: Any) -> None:
    case.call_and_validate(
        headers=AUTH, excluded_checks=[schemathesis.checks.positive_data_acceptance]
    )
