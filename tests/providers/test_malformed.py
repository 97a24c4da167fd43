"""Every webhook route answers malformed input with a 4xx, never a 5xx, whatever the provider.

Bodies of every JSON shape, every field of the provider's own payload replaced by a value of
another type (nested, huge, deep), bad encodings, bad headers and bad queries: each is posted
with the provider's genuine credentials (so unsigned providers parse it), and each is also read
by the adapter directly, past its signature, so the parser of signed providers sees it too.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
import requests_mock

from app.clock import FakeClock
from app.providers import REGISTRY
from app.providers.base import Malformed, Rejected
from tests.providers import samples
from tests.providers.helpers import provider_app
from tests.providers.samples import SAMPLES, SENDER, Sample, build
from tests.providers.test_contract import adapter

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
DEEP = 30_000  # 60 KB: under the default body limit, far past the JSON nesting limit
ODD_VALUES: list[Any] = [
    None,
    0,
    -1.5e308,
    True,
    [],
    {},
    [1, [2]],
    {"a": {"b": ["c"]}},
    "x" * 20_000,
    "\u0000\ud7ff\U0001f600",
]
RAW_BODIES = [
    b"",
    b"null",
    b"1",
    b'"text"',
    b"[]",
    b"[1, 2]",
    b"[null]",
    b"[[[]]]",
    b"{}",
    b'{"a": {"b": {"c": []}}}',
    b"[" * DEEP + b"]" * DEEP,
    b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    b"9" * 5000,
    b'{"Type": {"a": 1}, "TopicArn": ["x"], "Message": {"m": 1}}',
    b"\xff\xfe{\x00}\x00",
    b'{"text": "\xff\xfe"}',
    b"\x00" * 100,
    b"From=%FF&To=%FE&Body=%00",
    b"a=1&" * 2000,
    b"=&=&&==",
    b"{not json",
]
CONTENT_TYPES = [
    "application/json",
    "application/x-www-form-urlencoded",
    "text/plain; charset=UTF-8",
    "multipart/form-data; boundary=x",
]


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key path of a JSON document (leaves and branches)."""
    items = data.items() if isinstance(data, dict) else enumerate(data)
    for key, value in items:
        yield (*prefix, key)
        if isinstance(value, dict | list):
            yield from _paths(value, (*prefix, key))


def _set(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    copy = json.loads(json.dumps(data))
    node = copy
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return copy


def _nested_json(body: bytes) -> Iterator[bytes]:
    """The genuine JSON with each field, and each JSON string inside a field, made odd."""
    try:
        data = json.loads(body)
    except ValueError:
        return
    for path in _paths(data):
        for value in ODD_VALUES:
            yield json.dumps(_set(data, path, value)).encode()
            inner = _get(data, path)
            if isinstance(inner, str) and inner.startswith("{"):  # SNS: Message is JSON text
                for inner_path in _paths(json.loads(inner)):
                    odd = _set(json.loads(inner), inner_path, value)
                    yield json.dumps(_set(data, path, json.dumps(odd))).encode()


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        data = data[step]
    return data


def malformed(name: str) -> Iterator[Sample]:
    """Malformed variants of the provider's genuine request, credentials kept."""
    genuine = build(name, "VERIFY 7K3M9Q", SENDER, SAMPLES[name].number, "m-1", NOW)
    route = genuine.path.partition("?")[0]
    for body in RAW_BODIES + list(_nested_json(genuine.body)):
        for content_type in CONTENT_TYPES:
            headers = genuine.headers | {"Content-Type": content_type}
            yield replace(genuine, method="POST", path=route, headers=headers, body=body)
    yield replace(genuine, path=route + "?From=%FF%FE&To=%00&text=" + "%C3" * 50)
    yield replace(genuine, method="GET", path=route + "?" + "a=1&" * 500)
    for header in [*genuine.headers, "X-Twilio-Webhooks-Signature-Settings"]:
        for value in ("\u00e9\u00ff", "", " ", "v1,\u00e9 v1,x", "a" * 8000, "key=,algorithm=X"):
            yield replace(genuine, headers=genuine.headers | {header: value})


@pytest.fixture
def sns():
    with requests_mock.Mocker() as mock:
        yield samples.mock_sns(mock)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_adapters_read_malformed_input_as_malformed_or_refused_never_crash(name, sns):
    guard = adapter(name)
    for sample in malformed(name):
        request = sample.request()
        for step in (lambda r=request: guard.verify(r, NOW), lambda r=request: guard.parse(r)):
            with contextlib.suppress(Rejected, Malformed):
                step()


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_webhook_route_answers_malformed_input_with_a_4xx(name, tmp_path, sns):
    app = provider_app(tmp_path, FakeClock(NOW), name)
    try:
        client = app.test_client()
        for sample in malformed(name):
            answer = sample.send(client)
            assert answer.status_code < 500, (answer.status_code, sample)
            if answer.status_code >= 400 and answer.mimetype == "application/json":
                assert answer.json["error"]["message"], sample
    finally:
        app.extensions["reverse_otp"].ctx.store.dispose()
