"""Property: no forged or tampered webhook changes any challenge, whatever the provider.

Requests are mutated where their authenticity lives (body bytes, headers, signature, URL path
and query, credentials), signed with other secrets, or signed at shifted times. A mutation the
adapter accepts must read as exactly the genuine message (a re-encoding, not a forgery).
Providers authenticated by a path token or Basic credential have no body integrity: for them
the credential, headers and URL are mutated, not the body.
"""

from __future__ import annotations

import string
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import requests_mock
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.clock import FakeClock
from app.domain.parts import MessagePart
from app.providers.base import Malformed, Rejected
from tests.providers import samples
from tests.providers.helpers import challenge, new_challenge, provider_app
from tests.providers.samples import PROVIDERS, SAMPLES, SENDER, build
from tests.providers.test_contract import adapter

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
TEXT = "VERIFY 7K3M9Q"
PRINTABLE = string.ascii_letters + string.digits + "-_.~:+/="


def _mutate(value: bytes, op: str, index: int, byte: int, text: bool = False) -> bytes:
    """Flip (XOR, or substitute a printable byte in text), insert or delete one byte."""
    index = min(index, max(len(value) - 1, 0))
    if op == "flip" and text and value:
        swapped = byte if value[index] != byte else ord("Z" if byte != ord("Z") else "Y")
        return value[:index] + bytes([swapped]) + value[index + 1 :]
    if op == "insert":
        return value[:index] + bytes([byte]) + value[index:]
    if not value:
        return bytes([byte])
    if op == "delete":
        return value[:index] + value[index + 1 :]
    return value[:index] + bytes([value[index] ^ (byte or 1)]) + value[index + 1 :]


@st.composite
def forgeries(draw, name: str) -> samples.Sample:
    kinds = ["header", "path", "other_secret"]
    if SAMPLES[name].auth == "signature":
        kinds.append("body")
    if SAMPLES[name].timestamped:
        kinds.append("shift_time")
    kind = draw(st.sampled_from(kinds))
    if kind == "other_secret":
        return build(name, TEXT, SENDER, SAMPLES[name].number, "f-1", NOW, other_key=True)
    if kind == "shift_time":
        seconds = draw(st.integers(3601, 10**7)) * draw(st.sampled_from([-1, 1]))
        return build(
            name, TEXT, SENDER, SAMPLES[name].number, "f-1", NOW + timedelta(seconds=seconds)
        )
    genuine = build(name, TEXT, SENDER, SAMPLES[name].number, "f-1", NOW)
    op = draw(st.sampled_from(["flip", "insert", "delete"]))
    index = draw(st.integers(0, 10_000))
    if kind == "body":
        byte = draw(st.integers(0, 255))
        return genuine.with_body(_mutate(genuine.body, op, index % max(len(genuine.body), 1), byte))
    byte = ord(draw(st.sampled_from(PRINTABLE)))
    if kind == "path":
        # Without a signature the query is as unprotected as the body: mutate the route only.
        route, mark, query = genuine.path.partition("?")
        if SAMPLES[name].auth == "signature":
            route, mark, query = genuine.path, "", ""
        prefix = len("/webhooks/")
        tail = _mutate(route[prefix:].encode(), op, index % len(route), byte, text=True)
        path = "/webhooks/" + tail.decode("latin-1") + mark + query
        return replace(genuine, path=path if path != genuine.path else path + "x")
    headers = dict(genuine.headers)
    if not headers:
        return replace(genuine, headers={"Authorization": "Basic eDp5"})
    key = draw(st.sampled_from(sorted(headers)))
    value = _mutate(
        headers[key].encode("latin-1"), op, index % max(len(headers[key]), 1), byte, True
    )
    if draw(st.booleans()) and op == "delete":
        del headers[key]
    else:
        headers[key] = value.decode("latin-1").strip() or "x"
    return replace(genuine, headers=headers)


def content(items):
    out = []
    for item in items:
        m = item.message if isinstance(item, MessagePart) else item
        out.append((m.message_id, m.sender, m.to, m.text))
    return out


def accepted_as_other_message(name: str, forged: samples.Sample) -> bool:
    """True when the adapter accepts the request and reads something other than the genuine."""
    genuine = build(name, TEXT, SENDER, SAMPLES[name].number, "f-1", NOW)
    guard = adapter(name)
    try:
        guard.verify(forged.request(), NOW)
        return content(guard.parse(forged.request())) != content(guard.parse(genuine.request()))
    except (Rejected, Malformed):
        return False


# Forged requests per adapter: a thousand read by each adapter, and some more posted to the app.
ADAPTER_FORGERIES = 1000
APP_FORGERIES = 40


@pytest.mark.parametrize("name", PROVIDERS)
@settings(max_examples=ADAPTER_FORGERIES, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_no_forgery_is_accepted_as_another_message(name, data):
    forged = data.draw(forgeries(name))
    with requests_mock.Mocker() as mock:
        samples.mock_sns(mock)
        assert not accepted_as_other_message(name, forged)


@pytest.mark.parametrize("name", PROVIDERS)
def test_no_forgery_posted_to_the_app_changes_a_challenge(name, tmp_path):
    clock = FakeClock(NOW)
    with requests_mock.Mocker() as mock:
        samples.mock_sns(mock)
        app = provider_app(tmp_path, clock, name)
        client = app.test_client()
        created = new_challenge(client)

        @settings(
            max_examples=APP_FORGERIES, deadline=None, suppress_health_check=list(HealthCheck)
        )
        @given(data=st.data())
        def run(data):
            forged = data.draw(forgeries(name))
            forged = replace(
                forged,
                body=forged.body.replace(TEXT.encode(), created["body"].encode()),
                path=forged.path.replace("VERIFY+7K3M9Q", created["body"].replace(" ", "+")),
            )
            genuine = build(name, created["body"], SENDER, SAMPLES[name].number, "f-1", NOW)
            if forged == genuine or accepted_as_identical(name, forged, genuine):
                return  # a re-encoding of the genuine request, not a forgery
            answer = forged.send(client)
            assert answer.status_code < 500
            after = challenge(client, created["id"])
            assert (after["status"], after["attempts"]) == ("pending", 0), forged

        try:
            run()
        finally:
            app.extensions["reverse_otp"].ctx.store.dispose()


def accepted_as_identical(name, forged, genuine):
    guard = adapter(name)
    try:
        guard.verify(forged.request(), NOW)
        return content(guard.parse(forged.request())) == content(guard.parse(genuine.request()))
    except (Rejected, Malformed):
        return False
