"""The published description covers every route, and real answers match its schemas."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jsonschema import Draft202012Validator

from app.web.openapi import undescribed
from tests.conftest import AUTH
from tests.sms import create_on_simulator, text_in

PROOF_KEY = (
    ec.generate_private_key(ec.SECP256R1())
    .private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    .decode()
)

settings_overrides = pytest.fixture(
    lambda: {
        "admin": {"key": "admin-key-" + "0123456789abcdefghijkl"},
        "metrics": {"token": "metrics-0123456789abcdefghijklmn"},
        "proofs": {"key": PROOF_KEY},
    }
)


@pytest.fixture
def spec(client) -> dict[str, Any]:
    return client.get("/openapi.json").json


def schema_of(spec: dict[str, Any], path: str, method: str, status: int) -> dict[str, Any]:
    content = spec["paths"][path][method]["responses"][str(status)]["content"]
    return {"components": spec["components"], **content["application/json"]["schema"]}


def assert_matches(spec, path, method, response) -> None:
    schema = schema_of(spec, path, method, response.status_code)
    errors = sorted(Draft202012Validator(schema).iter_errors(response.json), key=str)
    assert not errors, [e.message for e in errors]


def test_every_route_is_described(app):
    assert undescribed(app) == []


def test_a_route_without_description_is_reported(app):
    @app.get("/undescribed-example")
    def example() -> str:
        return "x"

    assert any("/undescribed-example" in line for line in undescribed(app))


def test_spec_is_openapi_31_with_component_schemas(spec):
    assert spec["openapi"] == "3.1.0"
    for name in ("CreateChallenge", "CreatedView", "ChallengeView", "StatusView", "ErrorBody"):
        assert name in spec["components"]["schemas"]
    Draft202012Validator.check_schema(spec["components"]["schemas"]["CreatedView"])


def test_path_parameters_come_from_the_routes(spec):
    qr = spec["paths"]["/api/v1/status/{token}/qr.{fmt}"]["get"]
    path = {p["name"] for p in qr["parameters"] if p["in"] == "path"}
    assert path == {"token", "fmt"}
    assert [p["name"] for p in qr["parameters"] if p["in"] == "query"] == ["channel"]
    hook = spec["paths"]["/webhooks/{provider}"]["post"]
    assert hook["parameters"][0]["schema"]["enum"] == ["simulator", "twilio"]


def test_created_shown_and_cancelled_answers_match_their_schemas(client, spec):
    created = client.post("/api/v1/challenges", json={"metadata": {"a": 1}}, headers=AUTH)
    assert_matches(spec, "/api/v1/challenges", "post", created)
    cid = created.json["id"]
    shown = client.get(f"/api/v1/challenges/{cid}", headers=AUTH)
    assert_matches(spec, "/api/v1/challenges/{challenge_id}", "get", shown)
    cancelled = client.post(f"/api/v1/challenges/{cid}/cancel", headers=AUTH)
    assert_matches(spec, "/api/v1/challenges/{challenge_id}/cancel", "post", cancelled)
    again = client.post(f"/api/v1/challenges/{cid}/cancel", headers=AUTH)
    assert again.status_code == 409
    assert_matches(spec, "/api/v1/challenges/{challenge_id}/cancel", "post", again)


def test_verified_challenge_with_its_proof_and_the_jwks_match_their_schemas(client, spec):
    created = create_on_simulator(client)
    text_in(client, created["body"])
    shown = client.get(f"/api/v1/challenges/{created['id']}", headers=AUTH)
    assert shown.json["proof"].count(".") == 2
    assert_matches(spec, "/api/v1/challenges/{challenge_id}", "get", shown)
    proof = spec["components"]["schemas"]["ChallengeView"]["properties"]["proof"]
    assert {"type": "string"} in proof["anyOf"] and {"type": "null"} in proof["anyOf"]
    jwks = client.get("/.well-known/jwks.json")
    assert_matches(spec, "/.well-known/jwks.json", "get", jwks)
    assert spec["paths"]["/.well-known/jwks.json"]["get"]["tags"] == ["proofs"]


def test_verified_status_answer_matches_its_schema(client, spec):
    created = create_on_simulator(client)
    text_in(client, created["body"])
    status = client.get(f"/api/v1/status/{created['token']}")
    assert status.json["status"] == "verified"
    assert_matches(spec, "/api/v1/status/{token}", "get", status)


CHALLENGES = "/api/v1/challenges"
ERROR_CASES = [
    ("post", CHALLENGES, CHALLENGES, {"json": {}}, 401),
    ("post", CHALLENGES, CHALLENGES, {"json": [1], "headers": AUTH}, 400),
    ("post", CHALLENGES, CHALLENGES, {"json": {"ttl": 1}, "headers": AUTH}, 400),
    ("get", CHALLENGES + "/ch_nope", CHALLENGES + "/{challenge_id}", {"headers": AUTH}, 404),
    ("get", "/api/v1/status/nope", "/api/v1/status/{token}", {}, 404),
    ("get", "/metrics", "/metrics", {}, 401),
    ("get", "/admin", "/admin", {"headers": {"Authorization": "Bearer wrong"}}, 401),
]


@pytest.mark.parametrize(("method", "path", "spec_path", "kwargs", "status"), ERROR_CASES)
def test_error_answers_match_the_error_schema(
    client, spec, method, path, spec_path, kwargs, status
):
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == status
    assert_matches(spec, spec_path, method, response)


def test_health_answers_match_their_schemas(client, spec):
    assert_matches(spec, "/healthz", "get", client.get("/healthz"))
    assert_matches(spec, "/readyz", "get", client.get("/readyz"))


def test_reference_page_lists_every_operation_without_scripts(client, spec):
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for item in spec["paths"].values():
        for operation in item.values():
            assert f'id="{operation["operationId"]}"' in html
    assert "<script" not in html
    assert 'href="http' not in html
    assert 'src="http' not in html


def test_reference_prose_is_escaped_with_backticks_as_code():
    from app.web.docs import prose

    assert prose("<b>`x`</b>") == "&lt;b&gt;<code>x</code>&lt;/b&gt;"


def test_message_and_renew_answers_match_their_schema(client, clock, spec):
    created = client.post("/api/v1/challenges", json={}, headers=AUTH).json
    message = client.get(f"/api/v1/status/{created['token']}/message")
    assert message.status_code == 200
    assert_matches(spec, "/api/v1/status/{token}/message", "get", message)
    clock.advance(120)  # past the renewal cooldown, within the lifetime
    renewed = client.post(f"/api/v1/status/{created['token']}/renew")
    assert renewed.status_code == 200
    assert_matches(spec, "/api/v1/status/{token}/renew", "post", renewed)


# The contract as tools read it: a validator, unique ids, examples, the callbacks.


def test_openapi_spec_validator_accepts_the_live_document(spec):
    from openapi_spec_validator import OpenAPIV31SpecValidator

    errors = [e.message for e in OpenAPIV31SpecValidator(spec).iter_errors()]
    assert errors == []


def operations(spec):
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            yield f"{method.upper()} {path}", op
    for name, methods in spec["webhooks"].items():
        for method, op in methods.items():
            yield f"webhook {name} {method}", op


def test_operation_ids_are_unique(spec):
    ids = [op["operationId"] for _, op in operations(spec)]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    hooks = {op["operationId"] for where, op in operations(spec) if "/webhooks/{provider}" in where}
    assert hooks == {
        "webhooks.receive.get",
        "webhooks.receive.post",
        "webhooks.receive_by_provider_token.get",
        "webhooks.receive_by_provider_token.post",
    }


def media_types(op):
    body = op.get("requestBody", {}).get("content", {})
    yield from (("request", media, item) for media, item in body.items())
    for status, answer in op["responses"].items():
        yield from ((status, media, item) for media, item in answer.get("content", {}).items())


def resolve(spec, schema):
    return {"components": spec["components"], **schema}


def test_every_operation_has_an_example_that_fits_its_schema(spec):
    for where, op in operations(spec):
        found = list(media_types(op))
        assert found, f"{where} has no content at all"
        for status, media, item in found:
            assert "example" in item, f"{where} {status} {media} has no example"
            if media == "application/json" and "$ref" in item["schema"]:
                errors = Draft202012Validator(resolve(spec, item["schema"])).iter_errors(
                    item["example"]
                )
                assert [e.message for e in errors] == [], f"{where} {status}"


def test_every_schema_has_examples_that_fit_it(spec):
    for name, schema in spec["components"]["schemas"].items():
        assert schema.get("examples"), f"{name} has no example"
        for example in schema["examples"]:
            errors = Draft202012Validator(resolve(spec, schema)).iter_errors(example)
            assert [e.message for e in errors] == [], name


def test_error_examples_use_catalogued_codes_of_their_status(spec):
    from app.web.errorcodes import CATALOGUE

    for where, op in operations(spec):
        for status, media, item in media_types(op):
            error = item.get("example", {}).get("error") if media == "application/json" else None
            if isinstance(error, dict):
                assert CATALOGUE[error["code"]].status == int(status), f"{where} {status}"


def test_the_callbacks_are_described_in_the_webhooks_section(spec):
    assert set(spec["webhooks"]) == {
        "challenge.verified", "challenge.failed", "challenge.expired", "challenge.cancelled"
    }  # fmt: skip
    for name, item in spec["webhooks"].items():
        post = item["post"]
        headers = {p["name"] for p in post["parameters"] if p["in"] == "header"}
        assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}
        body = post["requestBody"]["content"]["application/json"]
        assert body["schema"]["$ref"].endswith("/CallbackView")
        assert body["example"]["type"] == name


def test_a_real_callback_body_fits_the_described_schema(spec):
    import json
    from datetime import UTC, datetime

    from app.domain import callbacks
    from app.domain.challenges import Challenge, Method, Status

    now = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    challenge = Challenge(
        "ch_x", "+15017122661", "h", "t", now, now, phone="+33612345678",
        status=Status.VERIFIED, verified_phone="+33612345678", verified_at=now, ended_at=now,
        method=Method.TEST.value, metadata={"a": 1},
    )  # fmt: skip
    for full in (True, False):
        body = json.loads(callbacks.event_body(challenge, "evt_1", now, full))
        schema = resolve(spec, {"$ref": "#/components/schemas/CallbackView"})
        errors = [e.message for e in Draft202012Validator(schema).iter_errors(body)]
        assert errors == []
