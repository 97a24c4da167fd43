"""Logs are JSON lines carrying the request id; token segments never reach them."""

from __future__ import annotations

import json
import logging

import pytest

from app.ops import logs


def test_formats_a_record_as_one_json_line_with_extras():
    record = logging.LogRecord("app.x", logging.INFO, "f", 1, "hello\nworld %s", ("a",), None)
    record.status = 201
    line = logs.JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "hello\nworld a"
    assert entry["status"] == 201
    assert entry["level"] == "INFO"


@pytest.mark.parametrize(
    ("path", "masked"),
    [
        ("/api/v1/status/abc_DEF-123", "/api/v1/status/***"),
        ("/api/v1/status/abc/qr.svg", "/api/v1/status/***/qr.svg"),
        ("/api/v1/status/abc/events", "/api/v1/status/***/events"),
        ("/v/tok3n", "/v/***"),
        ("/webhooks/textmagic/s3cret-path-token", "/webhooks/textmagic/***"),
        ("/webhooks/twilio", "/webhooks/twilio"),
        ("/api/v1/challenges/ch_1", "/api/v1/challenges/ch_1"),
    ],
)
def test_masks_token_segments_of_paths(path, masked):
    assert logs.mask_path(path) == masked


def test_echoes_a_well_formed_request_id(client):
    response = client.get("/healthz", headers={"X-Request-ID": "req-12345678"})
    assert response.headers["X-Request-ID"] == "req-12345678"


@pytest.mark.parametrize(
    "incoming", [None, "short", "bad id with spaces", "x" * 200, "a;b<script>-1234"]
)
def test_replaces_a_missing_or_malformed_request_id(client, incoming):
    headers = {"X-Request-ID": incoming} if incoming else {}
    response = client.get("/healthz", headers=headers)
    given = response.headers["X-Request-ID"]
    assert given != incoming
    assert len(given) == 24


def test_access_line_has_request_id_and_masked_path(client, caplog):
    caplog.set_level(logging.INFO, logger="app.access")
    client.get("/api/v1/status/secret-token-value", headers={"X-Request-ID": "trace-0001"})
    [record] = [r for r in caplog.records if r.name == "app.access"]
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["path"] == "/api/v1/status/***"
    assert line["status"] == 404
    assert "secret-token-value" not in caplog.text


def test_log_lines_written_during_a_request_carry_its_id(client, caplog):
    caplog.set_level(logging.INFO)
    seen = []

    class Capture(logging.Handler):
        def emit(self, record):
            seen.append(json.loads(logs.JsonFormatter().format(record)))

    handler = Capture()
    logging.getLogger("app.access").addHandler(handler)
    try:
        client.get("/healthz", headers={"X-Request-ID": "trace-0002"})
    finally:
        logging.getLogger("app.access").removeHandler(handler)
    assert [entry["request_id"] for entry in seen] == ["trace-0002"]
