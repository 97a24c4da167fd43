"""Signatures that run names and values together (Plivo V3) or read `&` and `=` as `_`
(Vonage) sign several parameter sets alike; a captured request re-split into a set the
provider never sends, with a new message id, is refused."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from app.providers import plivo, vonage
from tests.conftest import PUBLIC_URL
from tests.providers import samples
from tests.providers.helpers import challenge, new_challenge
from tests.providers.samples import SAMPLES, SENDER, build

VICTIM = "+33612345679"


def test_a_plivo_message_uuid_swallowing_the_parameters_after_it_is_refused(make_app, clock):
    client = make_app("plivo").test_client()
    victim = new_challenge(client, phone=VICTIM)
    captured = build("plivo", victim["body"], SENDER, SAMPLES["plivo"].number, "r-1", clock.now())
    assert captured.send(client).status_code == 200  # a wrong sender: one failed attempt
    genuine = parse_qsl(captured.body.decode(), keep_blank_values=True)
    fields = dict(genuine)
    fields["MessageUUID"] = fields["MessageUUID"] + "PowerpackUUID"
    del fields["PowerpackUUID"]
    url = PUBLIC_URL + "/webhooks/plivo"
    nonce = captured.headers["X-Plivo-Signature-V3-Nonce"]
    same = plivo.v3_signature(SAMPLES["plivo"].key, url, "POST", list(fields.items()), nonce)
    assert same == captured.headers["X-Plivo-Signature-V3"]
    forged = captured.with_body(urlencode(fields).encode())
    assert forged.send(client).status_code == 403
    assert challenge(client, victim["id"])["attempts"] == 1


def test_a_vonage_id_re_split_on_a_signed_underscore_is_refused(make_app, clock):
    client = make_app("vonage").test_client()
    victim = new_challenge(client, phone=VICTIM)
    captured = build("vonage", victim["body"], SENDER, SAMPLES["vonage"].number, "a_b", clock.now())
    assert captured.send(client).status_code == 204
    fields = dict(parse_qsl(captured.body.decode(), keep_blank_values=True))
    fields["messageId"] = "a&b"
    key = samples.SAMPLES["vonage"].section["signature_secret"]
    assert vonage.signature(key, fields, "sha256") == fields["sig"]
    forged = captured.with_body(urlencode(fields).encode())
    assert forged.send(client).status_code == 403
    assert challenge(client, victim["id"])["attempts"] == 1


def test_a_vonage_parameter_name_holding_a_separator_is_refused(make_app, clock):
    client = make_app("vonage").test_client()
    captured = build("vonage", "hello", SENDER, SAMPLES["vonage"].number, "n-1", clock.now())
    fields = dict(parse_qsl(captured.body.decode(), keep_blank_values=True))
    merged = {k: v for k, v in fields.items() if k not in ("keyword", "message-timestamp")}
    merged["keyword=" + fields["keyword"] + "&message-timestamp"] = fields["message-timestamp"]
    key = samples.SAMPLES["vonage"].section["signature_secret"]
    assert vonage.signature(key, merged, "sha256") == fields["sig"]
    assert captured.with_body(urlencode(merged).encode()).send(client).status_code == 403
