"""The OpenAPI 3.1 description, generated from the routes and the pydantic models they use.

A route is described by one decorator next to its definition:

    @bp.get("/challenges/<challenge_id>")
    @describe("Show a challenge", ok=ChallengeView, errors=(401, 404), auth="api_key")
    def show(challenge_id: str) -> Response: ...

The spec is built by walking `app.url_map`, so a route's path, methods and path parameters
come from Flask itself; request and response schemas come from the models. A route without a
description makes `tests/test_openapi.py` fail.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from flask import Flask
from pydantic import BaseModel
from werkzeug.routing import Rule

from app.web import errorcodes
from app.web.openapi_extras import MEDIA_EXAMPLES, callbacks_section
from app.web.views import ErrorBody

F = TypeVar("F", bound=Callable[..., Any])
ATTRIBUTE = "__openapi__"
REF = "#/components/schemas/{model}"
Auth = Literal["api_key", "admin", "metrics"]
ParamSchema = Mapping[str, Any] | Callable[[Flask], Mapping[str, Any]]

SECURITY_SCHEMES = {
    "api_key": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key: `Authorization: Bearer <key>`.",
    },
    "admin": {
        "type": "http",
        "scheme": "bearer",
        "description": "The `[admin] key`, as a Bearer header (or log in at /admin/login).",
    },
    "metrics": {
        "type": "http",
        "scheme": "bearer",
        "description": "The `[metrics] token` Prometheus sends.",
    },
}

ERRORS = {
    400: "the request is invalid; the message names the problem",
    401: "authentication is missing or wrong",
    403: "refused",
    404: "not found (or not enabled)",
    409: "the challenge is already final",
    413: "the body is too large",
    429: "a limit is reached (per API key, client IP, phone or pending total); see Retry-After",
    503: "storage or a component is unavailable; retry later (see Retry-After)",
}


@dataclass(frozen=True)
class Content:
    """A non-JSON answer or body: its media types and (optional) schema.

    `model`, when given, describes the application/json variant.
    """

    media_types: tuple[str, ...]
    description: str = ""
    schema: Mapping[str, Any] = field(default_factory=dict)
    model: type[BaseModel] | None = None
    example: Any = None  # else the media type's example in MEDIA_EXAMPLES


Answer = type[BaseModel] | Content


@dataclass(frozen=True)
class Operation:
    summary: str
    description: str = ""
    tag: str = "api"
    ok: Answer | None = None
    ok_status: int = 200
    errors: tuple[int, ...] = ()
    responses: Mapping[int, Answer] = field(default_factory=dict)
    body: Answer | None = None
    auth: Auth | None = None
    params: Mapping[str, ParamSchema] = field(default_factory=dict)
    query: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def describe(summary: str, **details: Any) -> Callable[[F], F]:
    """Describe a route for /openapi.json; keyword arguments are `Operation` fields."""
    operation = Operation(summary, **details)

    def mark(view: F) -> F:
        setattr(view, ATTRIBUTE, operation)
        return view

    return mark


def undocumented(view: F) -> F:
    """Mark a route that is deliberately left out of the description (the docs themselves)."""
    setattr(view, ATTRIBUTE, None)
    return view


def operation_of(app: Flask, rule: Rule) -> Operation | Literal[False] | None:
    """Return a rule's description, None if deliberately undocumented, False if missing."""
    view = app.view_functions.get(rule.endpoint)
    if rule.endpoint == "static":
        return None
    if not hasattr(view, ATTRIBUTE):
        return False
    found: Operation | None = getattr(view, ATTRIBUTE)
    return found


def build(app: Flask, title: str, version: str, server_url: str) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document for every described route of `app`."""
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        operation = operation_of(app, rule)
        if not operation:
            continue
        path = _openapi_path(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            item = _operation(app, rule, method, operation, schemas)
            item["operationId"] = _unique_id(rule, method, seen)
            paths.setdefault(path, {})[method.lower()] = item
    webhooks = callbacks_section(schemas.ref)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": DESCRIPTION},
        "servers": [{"url": server_url}],
        "tags": TAGS,
        "paths": paths,
        "webhooks": webhooks,
        "components": {"schemas": schemas.examples(), "securitySchemes": SECURITY_SCHEMES},
    }


def _unique_id(rule: Rule, method: str, seen: set[str]) -> str:
    """`<endpoint>.<method>`; an endpoint served on several paths (a webhook with and without
    its path token) names the longer forms by their path parameters."""
    found = f"{rule.endpoint}.{method.lower()}"
    if found in seen:
        found = f"{rule.endpoint}_by_{'_'.join(sorted(rule.arguments))}.{method.lower()}"
    seen.add(found)
    return found


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _operation(
    app: Flask, rule: Rule, method: str, op: Operation, schemas: _Schemas
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "summary": op.summary,
        "tags": [op.tag],
    }
    if op.description:
        item["description"] = op.description
    params = [_path_param(app, name, op) for name in sorted(rule.arguments)]
    params += [_query_param(name, schema) for name, schema in op.query.items()]
    if params:
        item["parameters"] = params
    if op.body is not None and method in ("POST", "PUT", "PATCH"):
        item["requestBody"] = {"required": True, "content": _content(op.body, schemas, "input")}
    item["responses"] = _responses(op, schemas)
    item["security"] = [{op.auth: []}] if op.auth else []
    return item


def _path_param(app: Flask, name: str, op: Operation) -> dict[str, Any]:
    given = op.params.get(name, {})
    schema = dict(given(app) if callable(given) else given)
    description = schema.pop("description", "")
    out: dict[str, Any] = {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string", **schema},
    }
    if description:
        out["description"] = description
    return out


def _query_param(name: str, given: Mapping[str, Any]) -> dict[str, Any]:
    schema = dict(given)
    description = schema.pop("description", "")
    return {"name": name, "in": "query", "required": False, "schema": schema} | (
        {"description": description} if description else {}
    )


def _responses(op: Operation, schemas: _Schemas) -> dict[str, Any]:
    answers: dict[int, Answer] = {}
    if op.ok is not None:
        answers[op.ok_status] = op.ok
    answers |= {status: ErrorBody for status in op.errors}
    answers |= dict(op.responses)
    out: dict[str, Any] = {}
    for status in sorted(answers):
        answer = answers[status]
        text = _description(status, answer)
        content = _content(answer, schemas, "output")
        if answer is ErrorBody or (isinstance(answer, Content) and answer.model is ErrorBody):
            content["application/json"]["example"] = _error_example(status)
        out[str(status)] = {"description": text, "content": content}
    return out


def _error_example(status: int) -> dict[str, Any]:
    """An error answer of this status, with its first catalogued code (docs/errors.md)."""
    codes = errorcodes.codes_for(status) or ["not_found"]
    meaning = errorcodes.CATALOGUE[codes[0]].meaning
    return {"error": {"code": codes[0], "message": meaning}}


def _description(status: int, answer: Answer) -> str:
    if isinstance(answer, Content) and answer.description:
        return answer.description
    if status in ERRORS and answer is ErrorBody:
        codes = ", ".join(f"`{c}`" for c in errorcodes.codes_for(status))
        return f"{ERRORS[status]} (codes: {codes})" if codes else ERRORS[status]
    doc = (answer.__doc__ or "").strip().splitlines() if isinstance(answer, type) else []
    return doc[0] if doc else "success"


def _content(answer: Answer, schemas: _Schemas, mode: str) -> dict[str, Any]:
    if isinstance(answer, Content):
        out: dict[str, Any] = {
            media: {"schema": dict(answer.schema), "example": _media_example(answer, media)}
            for media in answer.media_types
        }
        if answer.model is not None:
            out["application/json"] = _model_content(answer.model, schemas, mode)
        return out
    return {"application/json": _model_content(answer, schemas, mode)}


def _model_content(model: type[BaseModel], schemas: _Schemas, mode: str) -> dict[str, Any]:
    content: dict[str, Any] = {"schema": schemas.ref(model, mode)}
    examples = schemas.found[model.__name__].get("examples")
    if examples:
        content["example"] = examples[0]
    return content


def _media_example(answer: Content, media: str) -> Any:
    return answer.example if answer.example is not None else MEDIA_EXAMPLES.get(media, "")


class _Schemas:
    """components/schemas, filled with the models the operations name."""

    def __init__(self) -> None:
        self.found: dict[str, Any] = {}

    def ref(self, model: type[BaseModel], mode: str) -> dict[str, str]:
        json_mode: Literal["validation", "serialization"] = (
            "validation" if mode == "input" else "serialization"
        )
        schema = model.model_json_schema(ref_template=REF, mode=json_mode)
        for name, definition in schema.pop("$defs", {}).items():
            self.found.setdefault(name, definition)
        self.found.setdefault(model.__name__, schema)
        return {"$ref": REF.format(model=model.__name__)}

    def examples(self) -> dict[str, Any]:
        """Return the schemas, each enumeration given its first value as example."""
        for schema in self.found.values():
            if "enum" in schema and "examples" not in schema:
                schema["examples"] = [schema["enum"][0]]
        return self.found


def undescribed(app: Flask) -> list[str]:
    """Return the routes with no description (neither described nor marked undocumented)."""
    return [
        f"{sorted(rule.methods or ())} {rule.rule} ({rule.endpoint})"
        for rule in app.url_map.iter_rules()
        if operation_of(app, rule) is False
    ]


TAGS = [
    {"name": "api", "description": "Challenges, for integrators (API key)."},
    {"name": "status", "description": "What the user's browser may see (status token)."},
    {"name": "webhooks", "description": "Inbound SMS, called by the SMS providers."},
    {"name": "operations", "description": "Health, readiness and metrics."},
    {"name": "proofs", "description": "The public keys that verify proofs (docs/proofs.md)."},
    {"name": "pages", "description": "Pages for the user's browser (HTML)."},
    {"name": "admin", "description": "The operator dashboard (HTML)."},
    {"name": "callbacks", "description": "What we send to your callback URL (webhooks)."},
]

DESCRIPTION = """\
Reverse OTP phone verification. Your backend creates a challenge (`POST /api/v1/challenges`);
the user texts its code from their phone to the virtual number `to`; the SMS provider calls
`/webhooks/{provider}`; the challenge becomes `verified` with the sender as `verified_phone`,
and its `proof` is a signed token any backend can check offline against
`/.well-known/jwks.json`.

Every failed JSON answer has the shape `{"error": {"code": "...", "message": "..."}}`, where
`code` is a stable word. Times are RFC 3339 UTC, to the second.
"""
