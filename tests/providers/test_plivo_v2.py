"""Plivo's V2 signature binds only the URL and a nonce: refused unless the operator opts in,
and then each nonce is accepted once, remembered in the database across processes."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qsl, urlencode

import pytest

from app.config.checks import ConfigError
from tests.providers import samples
from tests.providers.helpers import challenge, new_challenge
from tests.providers.samples import SAMPLES, SENDER, build

PLIVO = SAMPLES["plivo"]
OPTED_IN = {"plivo": PLIVO.section | {"allow_v2": True}}


def with_text(sample: samples.Sample, **changes: str) -> samples.Sample:
    fields = dict(parse_qsl(sample.body.decode(), keep_blank_values=True)) | changes
    return sample.with_body(urlencode(fields).encode())


def test_plivo_v2_signature_is_refused_by_default(make_app, clock):
    client = make_app("plivo").test_client()
    created = new_challenge(client)
    v2 = build("plivo", created["body"], SENDER, PLIVO.number, "u-1", clock.now(), variant="v2")
    assert v2.send(client).status_code == 403
    assert challenge(client, created["id"])["status"] == "pending"


def test_a_replayed_plivo_v2_nonce_is_refused_even_with_another_message(make_app, clock):
    client = make_app("plivo", providers=OPTED_IN).test_client()
    victim = new_challenge(client, phone="+33612345679")
    genuine = build("plivo", "hello", SENDER, PLIVO.number, "u-1", clock.now(), variant="v2")
    assert genuine.send(client).status_code == 200
    # V2 does not sign the body: a captured pair replayed with the victim's number and code.
    forged = with_text(genuine, From="33612345679", Text=victim["body"], MessageUUID="u-2")
    assert forged.send(client).status_code == 403
    assert genuine.send(client).status_code == 403  # the same nonce, even unchanged
    assert challenge(client, victim["id"])["status"] == "pending"


def test_a_plivo_v2_nonce_is_remembered_across_app_instances(make_app, clock):
    from app import create_app

    first = make_app("plivo", providers=OPTED_IN)
    genuine = build("plivo", "hello", SENDER, PLIVO.number, "u-1", clock.now(), variant="v2")
    assert genuine.send(first.test_client()).status_code == 200
    # A second app on the same database, as another worker or instance would be.
    other = create_app(first.extensions["reverse_otp"].settings, clock=clock)
    try:
        replay = with_text(genuine, MessageUUID="u-3")
        assert replay.send(other.test_client()).status_code == 403
    finally:
        other.extensions["reverse_otp"].ctx.store.dispose()


def test_a_plivo_v2_nonce_is_accepted_again_only_after_its_window(make_app, clock):
    section = OPTED_IN["plivo"] | {"v2_nonce_seconds": 3600}
    client = make_app("plivo", providers={"plivo": section}).test_client()
    genuine = build("plivo", "hello", SENDER, PLIVO.number, "u-1", clock.now(), variant="v2")
    assert genuine.send(client).status_code == 200
    clock.advance(3599)
    assert with_text(genuine, MessageUUID="u-4").send(client).status_code == 403
    clock.advance(2)
    assert with_text(genuine, MessageUUID="u-4").send(client).status_code == 200


def test_plivo_v3_still_verifies_with_v2_allowed(make_app, clock):
    client = make_app("plivo", providers=OPTED_IN).test_client()
    created = new_challenge(client)
    v3 = build("plivo", created["body"], SENDER, PLIVO.number, "u-5", clock.now())
    v2 = build("plivo", created["body"], SENDER, PLIVO.number, "u-5", clock.now(), variant="v2")
    both = replace(v3, headers=v2.headers | {"X-Plivo-Signature-V3": "bad"})
    assert both.send(client).status_code == 403  # a bad V3 does not fall back to V2
    assert v3.send(client).status_code == 200
    assert challenge(client, created["id"])["status"] == "verified"


def test_plivo_allow_v2_must_be_a_boolean(make_app):
    with pytest.raises(ConfigError, match=r"providers\.plivo\.allow_v2"):
        make_app("plivo", providers={"plivo": PLIVO.section | {"allow_v2": "yes"}})


def test_plivo_v2_is_retried_later_when_the_nonce_memory_is_unreachable(
    make_app, clock, monkeypatch
):
    from app.store.base import StoreUnavailable
    from app.store.nonces import SqlNonces

    def down(*args: object) -> bool:
        raise StoreUnavailable("database down")

    client = make_app("plivo", providers=OPTED_IN).test_client()
    monkeypatch.setattr(SqlNonces, "first_use", down)
    v2 = build("plivo", "hello", SENDER, PLIVO.number, "u-6", clock.now(), variant="v2")
    answer = v2.send(client)
    assert answer.status_code == 503  # not stored: Plivo retries
    assert answer.json["error"]["code"] == "store_unavailable"


def test_an_adapter_without_a_nonce_memory_never_accepts_v2():
    from datetime import UTC, datetime

    from app.providers.base import Defaults, TryLater
    from app.providers.plivo import Plivo

    now = datetime(2026, 1, 1, tzinfo=UTC)
    v2 = build("plivo", "hello", SENDER, PLIVO.number, "u-7", now, variant="v2")
    adapter = Plivo(PLIVO.key, Defaults(samples.PUBLIC_URL), allow_v2=True)
    with pytest.raises(TryLater):
        adapter.verify(v2.request(), now)
