"""The client against the server's live /openapi.json: operations, parameters and fields.

A route, a request field or an answer field the server adds, renames or drops fails here, so
the client cannot silently drift from the server it is released with.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from typing import Any

import httpx
import pytest

from reverse_otp_client import (
    OPERATIONS,
    AsyncClient,
    Challenge,
    Client,
    CodeSent,
    CreatedChallenge,
    Status,
)
from reverse_otp_client.errors import FAMILIES
from tests.conftest import Server

# Operations of the "api" and "status" groups the client deliberately leaves to the user's
# browser (the hosted page and the widget call them), with why.
BROWSER_ONLY = {
    ("GET", "/api/v1/status/{token}/qr.{fmt}"): "an image: the answer's qr_*_url links to it",
    ("GET", "/api/v1/status/{token}/message"): "the hosted page's SMS details",
    ("POST", "/api/v1/status/{token}/renew"): "the hosted page's new-code button",
    ("POST", "/api/v1/status/{token}/check"): "the hosted page's form for a code sent to the user",
}
MODELS = {
    "ChallengeView": Challenge,
    "CreatedView": CreatedChallenge,
    "StatusView": Status,
    "SentView": CodeSent,
}


@pytest.fixture(scope="module")
def spec(server: Server) -> dict[str, Any]:
    found: dict[str, Any] = httpx.get(server.url + "/openapi.json").json()
    return found


def operation(spec: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    found: dict[str, Any] = spec["paths"][path][method.lower()]
    return found


def schema(spec: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = spec["components"]["schemas"][name]
    return found


def nullable(prop: dict[str, Any]) -> bool:
    return prop.get("type") == "null" or any(
        alt.get("type") == "null" for alt in prop.get("anyOf", [])
    )


def test_every_client_operation_is_in_the_document(spec: dict[str, Any]) -> None:
    for name, (method, path) in OPERATIONS.items():
        assert path in spec["paths"], f"{name}: {path} is not served"
        assert method.lower() in spec["paths"][path], f"{name}: {method} {path} is not served"
    wait = operation(spec, *OPERATIONS["wait"])
    assert "wait" in [p["name"] for p in wait.get("parameters", []) if p["in"] == "query"]


def test_every_integrator_operation_of_the_document_is_in_the_client(
    spec: dict[str, Any],
) -> None:
    covered = set(OPERATIONS.values()) | set(BROWSER_ONLY)
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            if {"api", "status"} & set(op.get("tags", [])):
                assert (method.upper(), path) in covered, f"client lacks {method.upper()} {path}"


def test_the_create_parameters_are_the_request_body_fields(spec: dict[str, Any]) -> None:
    body = operation(spec, *OPERATIONS["create"])["requestBody"]["content"]["application/json"]
    name = body["schema"]["$ref"].rsplit("/", 1)[1]
    fields = set(schema(spec, name)["properties"])
    for client in (Client, AsyncClient):
        params = set(inspect.signature(client.create).parameters) - {"self"}
        assert params == fields, f"{client.__name__}.create: {sorted(params ^ fields)}"


@pytest.mark.parametrize("name", sorted(MODELS))
def test_each_result_has_the_schema_fields_and_nullability(spec: dict[str, Any], name: str) -> None:
    model = MODELS[name]
    properties = schema(spec, name)["properties"]
    hints = typing.get_type_hints(model)
    fields = {f.name for f in dataclasses.fields(model)}
    assert fields == set(properties), f"{model.__name__}: {sorted(fields ^ set(properties))}"
    for field, prop in properties.items():
        optional = type(None) in typing.get_args(hints[field])
        assert optional == nullable(prop), f"{model.__name__}.{field}: nullability differs"


def test_the_answers_the_client_reads_are_the_documented_ones(spec: dict[str, Any]) -> None:
    answers = {
        "create": ("201", "CreatedView"),
        "get": ("200", "ChallengeView"),
        "cancel": ("200", "ChallengeView"),
        "status": ("200", "StatusView"),
        "send": ("202", "SentView"),
    }
    for name, (status, model) in answers.items():
        content = operation(spec, *OPERATIONS[name])["responses"][status]["content"]
        assert content["application/json"]["schema"]["$ref"].endswith("/" + model), name
    events = operation(spec, *OPERATIONS["events"])["responses"]["200"]["content"]
    assert "text/event-stream" in events


def test_every_documented_error_status_has_an_exception_family(spec: dict[str, Any]) -> None:
    for method, path in set(OPERATIONS.values()):
        for status in operation(spec, method, path)["responses"]:
            if int(status) >= 400:
                assert int(status) in FAMILIES, f"{method} {path}: no family for {status}"
