"""Property: an attacker holding one captured genuine request of any provider can produce no
new accepted message.

For every adapter in the registry (an adapter without a signed-request builder in samples.py
fails here), hypothesis mutates the captured request: its method, its query (added fields,
bytes changed, dropped), its body (bytes changed, fields added or retargeted, form parameters
re-split so they sign alike, JSON re-encoded), and its headers (Content-Type swapped, headers
dropped or changed, signature settings and other signature versions announced). Each mutation
is refused, or reads only messages the captured request already carried: the same message ids,
which the store deduplicates. Through the app, after the captured request (a wrong sender with
the victim's code) was stored, no mutation stores a message or spends an attempt.

Providers that sign nothing are proven by a path token or Basic credential that the captured
request itself carries: whoever holds it can send anything, which no check can tell apart
(TLS and `allow_ips` protect it). For them every mutation also changes or drops the credential.
"""

from __future__ import annotations

import json
import string
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
import requests_mock
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.clock import FakeClock
from app.domain.parts import MessagePart
from app.providers import REGISTRY
from app.providers.base import Defaults, Malformed, Rejected, TryLater
from app.providers.guards import Guarded
from app.store.tables import inbound_messages
from tests.conftest import PUBLIC_URL
from tests.providers import samples
from tests.providers.helpers import challenge, new_challenge, provider_app
from tests.providers.samples import SAMPLES, SENDER, Sample, build, digits

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
VICTIM = "+33612345679"
CODE = "VERIFY 7K3M9Q"
CAPTURED_ID = "cap-1"
NEW_IDS = ["cap-2", samples.twilio_sid("cap-2"), samples.plivo_uuid("cap-2"), "0A00000099"]
FIELD_NAMES = [
    "id",
    "from",
    "to",
    "text",
    "sender",
    "body",
    "From",
    "To",
    "Body",
    "Text",
    "MessageSid",
    "SmsSid",
    "MessageUUID",
    "msisdn",
    "messageId",
    "originator",
    "message",
    "phoneNumber",
    "sms_id",
    "address",
    "numero",
    "smsID",
    "Type",
    "event",
]
VALUES = [digits(VICTIM), VICTIM, CODE, *NEW_IDS, ""]
CONTENT_TYPES = [
    None,
    "application/json",
    "application/x-www-form-urlencoded",
    "text/plain; charset=UTF-8",
]
PRINTABLE = string.ascii_letters + string.digits + "-_.~:+/=&%"
ADAPTER_EXAMPLES = 300
APP_EXAMPLES = 25


# Each provider's default request and its variants (GET callbacks, other encodings).
CAPTURES = [
    (name, v)
    for name in sorted(REGISTRY)
    for v in ["", *(SAMPLES[name].variants if name in SAMPLES else ())]
]


def captured(name: str, text: str = CODE, variant: str = "") -> Sample:
    return build(name, text, SENDER, SAMPLES[name].number, CAPTURED_ID, NOW, variant=variant)


def genuine_fields(sample: Sample) -> dict[str, str]:
    """The captured request's own fields (form, query or top-level JSON), as name -> text."""
    pairs = dict(parse_qsl(sample.path.partition("?")[2], keep_blank_values=True))
    pairs |= dict(form_pairs(sample) or [])
    try:
        data = json.loads(sample.body)
    except ValueError:
        data = None
    if isinstance(data, dict):
        pairs |= {k: v for k, v in data.items() if isinstance(v, str)}
    return pairs


def smuggled(sample: Sample, new_id: str) -> dict[str, str]:
    """The captured fields retargeted: the victim as sender, a new message id."""
    ids = {CAPTURED_ID, samples.plivo_uuid(CAPTURED_ID), samples.twilio_sid(CAPTURED_ID)}
    swap = {SENDER: VICTIM, digits(SENDER): digits(VICTIM)} | dict.fromkeys(ids, new_id)
    return {name: swap.get(value, value) for name, value in genuine_fields(sample).items()}


def flip(value: bytes, index: int, byte: int) -> bytes:
    if not value:
        return bytes([byte])
    index %= len(value)
    return value[:index] + bytes([value[index] ^ (byte or 1)]) + value[index + 1 :]


def form_pairs(sample: Sample) -> list[tuple[str, str]] | None:
    if "form" not in (sample.headers.get("Content-Type") or ""):
        return None
    return parse_qsl(sample.body.decode("utf-8", "replace"), keep_blank_values=True)


def resplit(pairs: list[tuple[str, str]], index: int, merge: bool) -> list[tuple[str, str]]:
    """Re-split sorted parameters so that names and values run together sign alike."""
    ordered = sorted(pairs)
    i = index % len(ordered)
    name, value = ordered[i]
    if merge and i + 1 < len(ordered):  # the value swallows the next parameter
        nxt = ordered[i + 1]
        return [*ordered[:i], (name, value + nxt[0] + nxt[1]), *ordered[i + 2 :]]
    cut = len(value) // 2  # the value's tail becomes a parameter of its own
    return [*ordered[:i], (name, value[:cut]), (value[cut:] or "X", ""), *ordered[i + 1 :]]


def retarget(data: Any, old: str, new: str) -> Any:
    """Replace a string value throughout a JSON document."""
    if isinstance(data, dict):
        return {k: retarget(v, old, new) for k, v in data.items()}
    if isinstance(data, list):
        return [retarget(v, old, new) for v in data]
    return new if data == old else data


@st.composite
def query_mutation(draw: Any, sample: Sample) -> Sample:
    route, _, query = sample.path.partition("?")
    kind = draw(st.sampled_from(["add", "drop", "flip", "retarget", "smuggle"]))
    if kind == "smuggle":  # the whole retargeted field set in an unsigned query
        fields = smuggled(sample, draw(st.sampled_from(NEW_IDS)))
        return replace(sample, path=route + "?" + urlencode(fields))
    if kind == "add":
        pair = urlencode({draw(st.sampled_from(FIELD_NAMES)): draw(st.sampled_from(VALUES))})
        return replace(sample, path=f"{route}?{query}&{pair}" if query else f"{route}?{pair}")
    if kind == "drop" or not query:
        return replace(sample, path=route)
    if kind == "retarget":
        return replace(sample, path=sample.path.replace(digits(SENDER), digits(VICTIM)))
    changed = flip(
        query.encode(), draw(st.integers(0, 10_000)), ord(draw(st.sampled_from(PRINTABLE)))
    )
    return replace(sample, path=route + "?" + changed.decode("latin-1"))


@st.composite
def body_mutation(draw: Any, sample: Sample) -> Sample:
    kinds = ["flip", "append", "replace", "retarget", "resplit", "empty", "smuggle"]
    kind = draw(st.sampled_from(kinds))
    body = sample.body
    if kind == "smuggle":  # the whole retargeted field set as a form or JSON body
        fields = smuggled(sample, draw(st.sampled_from(NEW_IDS)))
        if draw(st.booleans()):
            headers = sample.headers | {"Content-Type": "application/json"}
            return replace(sample, headers=headers, body=json.dumps(fields).encode())
        headers = sample.headers | {"Content-Type": "application/x-www-form-urlencoded"}
        return replace(sample, headers=headers, body=urlencode(fields).encode())
    if kind == "flip":
        return sample.with_body(flip(body, draw(st.integers(0, 10**6)), draw(st.integers(0, 255))))
    if kind == "append":
        pair = urlencode({draw(st.sampled_from(FIELD_NAMES)): draw(st.sampled_from(VALUES))})
        return sample.with_body(body + b"&" + pair.encode())
    if kind == "replace":
        names = draw(st.lists(st.sampled_from(FIELD_NAMES), min_size=1, max_size=6))
        fields = {n: draw(st.sampled_from(VALUES)) for n in names}
        return sample.with_body(urlencode(fields).encode())
    if kind == "empty":
        return sample.with_body(b"")
    pairs = form_pairs(sample)
    if kind == "resplit" and pairs:
        index, merge = draw(st.integers(0, 100)), draw(st.booleans())
        return sample.with_body(urlencode(resplit(pairs, index, merge)).encode())
    old = draw(st.sampled_from([digits(SENDER), SENDER, CAPTURED_ID]))
    new = {digits(SENDER): digits(VICTIM), SENDER: VICTIM}.get(old, draw(st.sampled_from(NEW_IDS)))
    try:
        data = json.loads(body)
    except ValueError:
        return sample.with_body(body.replace(old.encode(), new.encode()))
    spacing = draw(st.sampled_from([(",", ":"), (", ", ": ")]))
    return sample.with_body(json.dumps(retarget(data, old, new), separators=spacing).encode())


@st.composite
def header_mutation(draw: Any, sample: Sample, kind: str = "") -> Sample:
    headers = dict(sample.headers)
    kind = kind or draw(st.sampled_from(["content_type", "drop", "flip", "announce"]))
    if kind == "content_type":
        content_type = draw(st.sampled_from(CONTENT_TYPES))
        headers.pop("Content-Type", None)
        if content_type:
            headers["Content-Type"] = content_type
    elif kind == "announce":
        headers |= draw(
            st.sampled_from(
                [
                    {"X-Twilio-Webhooks-Signature-Settings": "key=k,algorithm=HMAC_SHA256"},
                    {"X-Twilio-Webhooks-Signature-Settings": "algorithm=HMAC_SHA1"},
                    {"X-Plivo-Signature-V2": "x", "X-Plivo-Signature-V2-Nonce": "1"},
                    {"X-Forwarded-For": "198.51.100.7"},
                ]
            )
        )
        if "X-Plivo-Signature-V2" in headers:  # the captured V3 signature offered as V2
            v3 = headers.pop("X-Plivo-Signature-V3", None)
            headers["X-Plivo-Signature-V2"] = v3 or "x"
    elif headers:
        name = draw(st.sampled_from(sorted(headers)))
        if kind == "drop":
            del headers[name]
        else:
            value = headers[name]
            index = draw(st.integers(0, 10_000)) % max(len(value), 1)
            byte = draw(st.sampled_from(PRINTABLE.replace(value[index : index + 1], "")))
            headers[name] = (value[:index] + byte + value[index + 1 :]).strip() or "x"
    return replace(sample, headers=headers)


def without_credential(name: str, sample: Sample, drop: bool) -> Sample:
    """The request with its path token or Basic credential changed or dropped."""
    if SAMPLES[name].auth == "token":
        token = SAMPLES[name].key
        return replace(
            sample, path=sample.path.replace("/" + token, "" if drop else "/" + token[:-1] + "X")
        )
    headers = dict(sample.headers)
    headers.pop("Authorization", None)
    if not drop:
        user, password = SAMPLES[name].key
        headers["Authorization"] = samples._basic((user, password + "x"))
    return replace(sample, headers=headers)


@st.composite
def mutations(draw: Any, name: str, genuine: Sample) -> Sample:
    sample = genuine
    if draw(st.booleans()):  # the other method, with the Content-Type an attacker picks
        sample = replace(sample, method="GET" if sample.method == "POST" else "POST")
        sample = draw(header_mutation(sample, "content_type"))
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["method", "query", "body", "headers"]))
        if kind == "method":
            sample = replace(sample, method="GET" if sample.method == "POST" else "POST")
        elif kind == "query":
            sample = draw(query_mutation(sample))
        elif kind == "body":
            sample = draw(body_mutation(sample))
        else:
            sample = draw(header_mutation(sample))
    if SAMPLES[name].auth != "signature":
        sample = without_credential(name, sample, draw(st.booleans()))
    return sample


def message_ids(items: Any) -> set[str]:
    return {(i.message if isinstance(i, MessagePart) else i).message_id for i in items}


def guard(name: str, defaults: Defaults | None = None, **extra: Any) -> Guarded:
    section = SAMPLES[name].section | extra
    adapter = REGISTRY[name](section, defaults or Defaults(PUBLIC_URL, default_region="US"))
    return Guarded(adapter, section)


def accepted_ids(adapter: Guarded, sample: Sample) -> set[str] | None:
    """The message ids an adapter accepts from a request, or None when it refuses it."""
    request = sample.request()
    try:
        adapter.verify(request, NOW)
        return message_ids(adapter.parse(request))
    except (Rejected, Malformed, TryLater):
        return None


@pytest.fixture
def sns():
    with requests_mock.Mocker() as mock:
        yield samples.mock_sns(mock)


def test_every_registered_provider_has_a_signed_request_builder(sns):
    for name in REGISTRY:
        genuine = captured(name)
        assert accepted_ids(guard(name), genuine) == {samples.SAMPLES[name].message_id(CAPTURED_ID)}


@pytest.mark.parametrize(("name", "variant"), CAPTURES)
@settings(max_examples=ADAPTER_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_captured_request_yields_no_new_message_however_mutated(name, variant, data):
    genuine = captured(name, variant=variant)
    adapter = guard(name)
    forged = data.draw(mutations(name, genuine))
    with requests_mock.Mocker() as mock:
        samples.mock_sns(mock)
        known = accepted_ids(adapter, genuine)
        assert known, name  # the builder's request is accepted as it stands
        found = accepted_ids(adapter, forged)
    assert found is None or found <= known, forged


class SeenNonces:
    """The nonce memory after the captured request was accepted."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def first_use(self, key: str, window: int, now: datetime) -> bool:
        fresh = key not in self.seen
        self.seen.add(key)
        return fresh


@settings(max_examples=ADAPTER_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_captured_plivo_v2_request_yields_nothing_new_when_v2_is_allowed(data):
    nonces = SeenNonces()
    adapter = guard("plivo", Defaults(PUBLIC_URL, "US", nonces=nonces), allow_v2=True)
    genuine = captured("plivo", variant="v2")
    assert accepted_ids(adapter, genuine)
    forged = data.draw(mutations("plivo", genuine))
    assert accepted_ids(adapter, forged) is None, forged


def inbound_count(app: Any) -> int:
    with app.extensions["reverse_otp"].ctx.store.reader.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(inbound_messages)).scalar())


@pytest.mark.parametrize(("name", "variant"), CAPTURES)
def test_mutations_of_a_captured_request_change_nothing_in_the_app(name, variant, tmp_path, sns):
    app = provider_app(tmp_path, FakeClock(NOW), name)
    try:
        client = app.test_client()
        victim = new_challenge(client, phone=VICTIM)
        genuine = captured(name, victim["body"], variant)  # the wrong sender, the victim's code
        assert 200 <= genuine.send(client).status_code < 300
        assert challenge(client, victim["id"])["attempts"] == 1
        assert inbound_count(app) == 1

        @settings(max_examples=APP_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
        @given(data=st.data())
        def run(data: Any) -> None:
            forged = data.draw(mutations(name, genuine))
            assert forged.send(client).status_code < 500
            after = challenge(client, victim["id"])
            assert (after.get("status"), after.get("attempts")) == ("pending", 1), (after, forged)
            assert inbound_count(app) == 1, forged

        run()
    finally:
        app.extensions["reverse_otp"].ctx.store.dispose()
