"""An adapter reads only what its signature covers: a signed request carrying data in a part
its signature leaves open (a GET with a body, a query string an HMAC of the body ignores) is
refused, for every adapter in the registry."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
import requests_mock

from app.providers import REGISTRY, plivo
from app.providers.base import Part, Rejected
from tests.conftest import PUBLIC_URL
from tests.providers import samples
from tests.providers.helpers import challenge, new_challenge
from tests.providers.samples import SAMPLES, SENDER, Sample, build, digits
from tests.providers.test_contract import adapter

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
VICTIM = "+33612345679"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(autouse=True)
def sns():
    with requests_mock.Mocker(real_http=False) as mock:
        yield samples.mock_sns(mock)


def test_a_twilio_get_with_a_form_body_is_refused(make_app, clock):
    """Twilio signs a GET over its URL only: a form body would override the signed fields."""
    client = make_app("twilio").test_client()
    victim = new_challenge(client, phone=VICTIM)
    captured = build(
        "twilio", "hello", SENDER, SAMPLES["twilio"].number, "g-1", clock.now(), variant="get"
    )
    sid = samples.twilio_sid("g-2")
    body = urlencode(
        {"MessageSid": sid, "SmsSid": sid, "From": VICTIM, "Body": victim["body"]}
    ).encode()
    forged = replace(captured, headers=captured.headers | FORM, body=body)
    assert forged.send(client).status_code == 403
    assert challenge(client, victim["id"])["status"] == "pending"


def test_a_generic_get_reading_the_unsigned_query_is_refused(make_app, clock):
    """The generic HMAC covers the body; a GET's query string is not read past it."""
    client = make_app("generic").test_client()
    victim = new_challenge(client, phone=VICTIM)
    captured = build("generic", "hello", SENDER, SAMPLES["generic"].number, "g-1", clock.now())
    query = urlencode({"id": "g-2", "from": VICTIM, "to": victim["to"], "text": victim["body"]})
    headers = captured.headers | {"Content-Type": "text/plain"}
    forged = replace(captured, method="GET", path=f"{captured.path}?{query}", headers=headers)
    assert forged.send(client).status_code == 403
    assert challenge(client, victim["id"])["status"] == "pending"


def plivo_v3_get(fields: dict[str, str]) -> Sample:
    path = "/webhooks/plivo?" + urlencode(fields)
    nonce = "16261234567890123456"
    sig = plivo.v3_signature(SAMPLES["plivo"].key, PUBLIC_URL + path, "GET", [], nonce)
    headers = {"X-Plivo-Signature-V3": sig, "X-Plivo-Signature-V3-Nonce": nonce}
    return Sample("GET", path, headers)


def test_a_plivo_v3_get_with_a_form_body_is_refused(make_app, clock):
    client = make_app("plivo").test_client()
    victim = new_challenge(client, phone=VICTIM)
    fields = {"From": digits(SENDER), "To": digits(SAMPLES["plivo"].number), "Type": "sms"}
    captured = plivo_v3_get(fields | {"Text": "hello", "MessageUUID": samples.plivo_uuid("p-1")})
    assert captured.send(client).status_code == 200  # a genuine GET is read
    uuid = samples.plivo_uuid("p-2")
    body = urlencode({"From": digits(VICTIM), "Text": victim["body"], "MessageUUID": uuid})
    forged = replace(captured, headers=captured.headers | FORM, body=body.encode())
    assert forged.send(client).status_code == 403
    assert challenge(client, victim["id"])["status"] == "pending"


def test_a_generic_json_body_is_read_as_json_whatever_its_content_type(make_app, clock):
    """The body decides the format, not the unsigned header: a signed JSON body whose text
    was written to look like a form cannot be re-read as a form carrying other fields."""
    client = make_app("generic").test_client()
    victim = new_challenge(client, phone=VICTIM)
    trap = urlencode({"x": "1", "id": "g-9", "from": VICTIM, "text": victim["body"]})
    trap = "&" + trap + "&to=" + victim["to"].replace("+", "%2B") + "&"
    genuine = build("generic", trap, SENDER, SAMPLES["generic"].number, "g-1", clock.now())
    assert genuine.send(client).status_code == 200
    for method in ("GET", "POST"):
        reread = replace(genuine, method=method, headers=genuine.headers | FORM)
        assert reread.send(client).status_code in (200, 400, 403)
    assert challenge(client, victim["id"])["status"] == "pending"


def present(sample: Sample) -> Part:
    return sample.request().parts()


def with_extra(sample: Sample, part: Part) -> Sample:
    """The sample with data added in one part: a query string, or a form body."""
    if part == Part.QUERY:
        mark = "&" if "?" in sample.path else "?"
        return replace(sample, path=sample.path + mark + "text=evil&from=" + digits(VICTIM))
    return replace(sample, headers=sample.headers | FORM, body=b"text=evil&from=1&To=1")


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_signed_adapter_refuses_data_its_signature_does_not_cover(name):
    genuine = build(name, "hello", SENDER, SAMPLES[name].number, "c-1", NOW)
    guard = adapter(name)
    guard.verify(genuine.request(), NOW)
    covered = guard.covers(genuine.request())
    if SAMPLES[name].auth != "signature":
        assert covered == Part.ALL  # a credential vouches for the whole request
        return
    open_parts = [p for p in (Part.QUERY, Part.BODY) if not p & covered]
    for part in open_parts:
        with pytest.raises(Rejected, match=r"unsigned_fields|bad_signature"):
            guard.verify(with_extra(genuine, part).request(), NOW)
    for method in ("GET", "POST"):  # the same bytes under the other method
        moved = replace(genuine, method=method)
        try:
            guard.verify(moved.request(), NOW)
        except Rejected:
            continue
        assert present(moved) & ~guard.covers(moved.request()) == Part.NONE


def test_generic_refuses_a_query_on_a_signed_post():
    genuine = build("generic", "hello", SENDER, SAMPLES["generic"].number, "c-1", NOW)
    with pytest.raises(Rejected, match="unsigned_fields"):
        adapter("generic").verify(with_extra(genuine, Part.QUERY).request(), NOW)


def test_the_simulator_refuses_a_query_on_a_signed_post():
    body = json.dumps({"from": SENDER, "to": SAMPLES["simulator"].number, "text": "x", "id": "s"})
    sig = hmac.new(SAMPLES["simulator"].key.encode(), body.encode(), hashlib.sha256).hexdigest()
    s = Sample(
        "POST",
        "/webhooks/simulator?from=" + digits(VICTIM),
        {"Content-Type": "application/json", "X-Simulator-Signature": sig},
        body.encode(),
    )
    with pytest.raises(Rejected, match="unsigned_fields"):
        adapter("simulator").verify(s.request(), NOW)
