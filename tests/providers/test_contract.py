"""The contract every provider adapter keeps, run against each one (behind the guards, as the
app runs it): signed samples pass, tampering and other secrets do not, captured payloads parse
into the common message, and the acknowledgement has the provider's content type."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests_mock

from app.domain.challenges import InboundMessage, Outcome, Verdict
from app.domain.parts import MessagePart
from app.providers import REGISTRY
from app.providers.base import Defaults, Rejected, WebhookRequest
from app.providers.guards import Guarded
from tests.conftest import PUBLIC_URL
from tests.providers import samples
from tests.providers.samples import PROVIDERS, SAMPLES, build

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
FIXTURES = Path(__file__).parent.parent / "fixtures"
TEXT = "VERIFY 7K3M9Q"
# Collected from the records that exist; a provider without one fails test_every_registered_...
SIGNED = [p for p in PROVIDERS if p in SAMPLES and SAMPLES[p].auth == "signature"]
TIMESTAMPED = [p for p in PROVIDERS if p in SAMPLES and SAMPLES[p].timestamped]


@pytest.fixture(autouse=True)
def sns_certificate():
    with requests_mock.Mocker() as mock:
        samples.mock_sns(mock)
        yield mock


def adapter(name: str, **extra: Any) -> Guarded:
    section = SAMPLES[name].section | extra
    defaults = Defaults(public_url=PUBLIC_URL, default_region="US")
    return Guarded(REGISTRY[name](section, defaults), section)


def sample(name: str, now: datetime = NOW, **kw: Any) -> samples.Sample:
    return build(name, TEXT, samples.SENDER, SAMPLES[name].number, "msg-0001", now, **kw)


def messages(items: Any) -> list[InboundMessage]:
    return [i.message if isinstance(i, MessagePart) else i for i in items]


def test_every_registered_provider_has_a_sample_and_every_sample_a_provider():
    assert set(SAMPLES) == set(REGISTRY)


@pytest.mark.parametrize("name", PROVIDERS)
class TestContract:
    def test_accepts_a_correctly_signed_sample(self, name):
        request = sample(name).request()
        adapter(name).verify(request, NOW)
        [message] = messages(adapter(name).parse(request))
        assert (message.sender_e164, message.to, message.text, message.message_id) == (
            samples.SENDER,
            SAMPLES[name].number,
            TEXT,
            SAMPLES[name].message_id("msg-0001"),
        )

    def test_rejects_a_tampered_request(self, name):
        forged = SAMPLES[name].tamper(sample(name), samples.SENDER).request()
        with pytest.raises(Rejected):
            adapter(name).verify(forged, NOW)

    def test_rejects_a_missing_signature(self, name):
        with pytest.raises(Rejected):
            adapter(name).verify(SAMPLES[name].without_proof(sample(name)).request(), NOW)

    def test_rejects_a_signature_made_with_another_secret(self, name):
        forged = sample(name, other_key=True).request()
        with pytest.raises(Rejected):
            adapter(name).verify(forged, NOW)

    def test_parses_the_captured_sample(self, name):
        fixture = json.loads((FIXTURES / name / "inbound.json").read_text())
        body = (fixture["body"] or "").encode()
        headers = {"content-type": fixture["content_type"]} if fixture["content_type"] else {}
        parts = urlsplit(fixture["path"])
        request = WebhookRequest(
            method=fixture["method"],
            url=PUBLIC_URL + fixture["path"],
            headers=headers,
            body=body,
            query=parse_qsl(parts.query, keep_blank_values=True),
        )
        [message] = messages(adapter(name).parse(request))
        expected = fixture["expected"]
        assert message.provider == name
        assert message.message_id == expected["id"]
        assert message.sender_e164 == expected["sender"]
        assert message.to == expected["to"]
        assert message.text == expected["text"]
        assert message.raw

    def test_answers_with_its_content_type(self, name):
        reply = adapter(name).acknowledge([Verdict(Outcome.MATCHED, "ch_1")])
        assert 200 <= reply.status < 300
        assert reply.content_type == SAMPLES[name].answers


# Providers signing the body; for the others the path token or Basic credential is the proof
# (test_rejects_a_tampered_request tampers with that credential instead).
@pytest.mark.parametrize("name", SIGNED)
def test_rejects_a_tampered_body(name):
    s = sample(name)
    forged = s.with_body(s.body.replace(b"7K3M9Q", b"7K3M9R", 1))
    assert forged.body != s.body or s.method == "GET"
    if s.method == "GET":
        forged = replace(s, path=s.path.replace("7K3M9Q", "7K3M9R", 1))
    with pytest.raises(Rejected):
        adapter(name).verify(forged.request(), NOW)


# Providers without a signed timestamp rely on message-id idempotency against replays.
@pytest.mark.parametrize("name", TIMESTAMPED)
@pytest.mark.parametrize("shift", [timedelta(hours=-2), timedelta(hours=2)])
def test_rejects_a_stale_timestamp_where_one_is_signed(name, shift):
    with pytest.raises(Rejected):
        adapter(name).verify(sample(name, now=NOW + shift).request(), NOW)


@pytest.mark.parametrize("name", TIMESTAMPED)
def test_accepts_a_timestamp_within_tolerance(name):
    adapter(name).verify(sample(name, now=NOW - timedelta(seconds=60)).request(), NOW)


AUTH_KEYS = {
    "path_token",
    "basic_username",
    "basic_password",
    "secret",
    "auth_token",
    "signature_secret",
    "signature_header",
    "public_key",
    "signing_key",
    "signing_secret",
    "topic_arns",
    "app_secret",
}


@pytest.mark.parametrize("name", PROVIDERS)
def test_refuses_to_start_without_any_authenticity_check(name):
    from app.providers.base import SettingsError

    section = {k: v for k, v in SAMPLES[name].section.items() if k not in AUTH_KEYS}
    with pytest.raises(SettingsError, match=rf"providers\.{name}\.\w+"):
        Guarded(REGISTRY[name](section, Defaults(PUBLIC_URL)), section)


@pytest.mark.parametrize("name", PROVIDERS)
def test_starts_without_a_check_only_when_explicitly_opted_in(name):
    section = {k: v for k, v in SAMPLES[name].section.items() if k not in AUTH_KEYS}
    section["allow_unauthenticated"] = True
    try:
        adapter = REGISTRY[name](section, Defaults(PUBLIC_URL))
    except Exception as exc:  # adapters whose signature key is required refuse regardless
        assert "providers." + name in str(exc)
        return
    assert not Guarded(adapter, section).authenticated
