"""The parts of /openapi.json not read from the routes: the callbacks we send (the document's
`webhooks` section, OpenAPI 3.1) and examples of the answers that are not pydantic models.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from app.web.examples import EXAMPLE_CALLBACK
from app.web.views import CallbackView

CALLBACK_HEADERS = {
    "webhook-id": "the event id (the body's `id`): drop duplicates by it",
    "webhook-timestamp": "seconds since the epoch when this attempt was signed",
    "webhook-signature": "`v1,<base64 HMAC-SHA256>` of `<id>.<timestamp>.<body>`, space-separated"
    " during a secret rotation",
}


def callbacks_section(ref: Callable[[type[BaseModel], str], dict[str, str]]) -> dict[str, Any]:
    """The callbacks we send (docs/callbacks.md), one per event type."""
    out: dict[str, Any] = {}
    for kind in ("challenge.verified", "challenge.failed", "challenge.expired",
                 "challenge.cancelled"):  # fmt: skip
        example = EXAMPLE_CALLBACK | {"type": kind}
        out[kind] = {"post": {
            "operationId": f"callbacks.{kind.replace('.', '_')}",
            "summary": f"Callback: {kind}",
            "description": "Sent to the challenge's `callback_url` (else the app's), signed with"
            " the app's `whsec_` secret (Standard Webhooks). Answer 2xx within the timeout;"
            " anything else is retried with growing delays.",
            "tags": ["callbacks"],
            "parameters": [
                {"name": name, "in": "header", "required": True, "description": text,
                 "schema": {"type": "string"}, "example": HEADER_EXAMPLES[name]}
                for name, text in CALLBACK_HEADERS.items()
            ],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": ref(CallbackView, "output"), "example": example}}},
            "responses": {
                "2XX": {"description": "received; not sent again"},
                "default": {"description": "not received: retried later"},
            },
        }}  # fmt: skip
    return out


HEADER_EXAMPLES = {
    "webhook-id": EXAMPLE_CALLBACK["id"],
    "webhook-timestamp": "1772357401",
    "webhook-signature": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
}


# Examples of the answers and bodies that are not a pydantic model, by media type.
MEDIA_EXAMPLES: dict[str, Any] = {
    "text/html": '<!doctype html><html lang="en">...</html>',
    "text/plain": "ok\n",
    "text/css": ":root { --accent: #1f4fd1; }",
    "text/event-stream": 'event: status\ndata: {"status": "verified"}\n\n',
    "image/svg+xml": '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 33 33">...</svg>',
    "image/png": "(a PNG image)",
    "application/xml": '<?xml version="1.0" encoding="UTF-8"?><Response/>',
    "text/xml": '<?xml version="1.0" encoding="UTF-8"?><Response/>',
    "application/json": {},
    "application/x-www-form-urlencoded": {"From": "+33612345678", "Body": "VERIFY 7KQ4MZ"},
}
