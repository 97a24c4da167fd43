"""The API description: /openapi.json, and /docs, a reference page rendered from it."""

from __future__ import annotations

import re
from importlib import metadata
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template
from markupsafe import Markup, escape

from app.config.schema import Settings
from app.runtime import runtime
from app.web import openapi

bp = Blueprint("docs", __name__)
CACHE = "reverse_otp.openapi"


def spec(app: Flask) -> dict[str, Any]:
    """Return the app's OpenAPI document, built once."""
    found: dict[str, Any] | None = app.extensions.get(CACHE)
    if found is None:
        with app.app_context():
            settings = runtime().settings
            found = openapi.build(
                app, f"{settings.server.name} API", _version(), settings.server.public_url
            )
            _configured_bounds(found, settings)
        app.extensions[CACHE] = found
    return found


@bp.get("/openapi.json")
@openapi.undocumented
def openapi_json() -> Response:
    response = jsonify(spec(current_app._get_current_object()))  # type: ignore[attr-defined]
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/docs")
@openapi.undocumented
def reference() -> str:
    document = spec(current_app._get_current_object())  # type: ignore[attr-defined]
    return render_template(
        "docs/reference.html",
        spec=document,
        schemas=document["components"]["schemas"],
        type_label=type_label,
        ref_name=ref_name,
        prose=prose,
    )


def _configured_bounds(document: dict[str, Any], settings: Settings) -> None:
    """Write this instance's configured limits into the request schemas."""
    ttl = document["components"]["schemas"]["CreateChallenge"]["properties"]["ttl"]
    for option in ttl.get("anyOf", [ttl]):
        if option.get("type") == "integer":
            option["minimum"] = settings.codes.min_ttl
            option["maximum"] = settings.codes.max_ttl


def prose(text: str) -> Markup:
    """Return text escaped, with `backticked` spans as <code>."""
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text))))  # noqa: S704


def ref_name(schema: dict[str, Any]) -> str | None:
    """Return the component name a `$ref` schema points at."""
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def type_label(schema: dict[str, Any]) -> str:
    """Return a short human label for a JSON Schema: `string | null`, `array of X`..."""
    name = ref_name(schema)
    if name:
        return name
    if "anyOf" in schema:
        return " | ".join(type_label(s) for s in schema["anyOf"])
    if "enum" in schema:
        return " | ".join(repr(v) for v in schema["enum"])
    if "const" in schema:
        return repr(schema["const"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {type_label(schema.get('items', {}))}"
    if kind == "object" and "additionalProperties" in schema:
        extra = schema["additionalProperties"]
        return f"object of {type_label(extra) if isinstance(extra, dict) else 'any'}"
    fmt = schema.get("format")
    if "minimum" in schema or "maximum" in schema:
        fmt = f"{schema.get('minimum', '')}..{schema.get('maximum', '')}"
    return f"{kind} ({fmt})" if fmt else str(kind)


def _version() -> str:
    try:
        return metadata.version("reverse-otp")
    except metadata.PackageNotFoundError:
        return "0.0.0"
