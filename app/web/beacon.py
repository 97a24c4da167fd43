"""What the hosted page reports for the conversion funnel: POST /v/<token>/beacon.

static/funnel.js sends `{"event": "page_opened" | "send_tapped" | "qr_shown"}` with
navigator.sendBeacon. The page token in the path is the credential (as for the live status);
each event counts once per challenge, reports are rate-limited per client address, and
nothing about the visitor (address, user agent) is kept. No third-party analytics.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from app.domain.funnel import PAGE_EVENTS
from app.runtime import runtime
from app.usecases import funnel
from app.web.client import client_ip
from app.web.errors import error
from app.web.openapi import Content, describe

bp = Blueprint("beacon", __name__)

EVENT = Content(
    ("application/json", "text/plain"),
    "the event, as JSON (sendBeacon may label it text/plain)",
    schema={
        "type": "object",
        "properties": {"event": {"type": "string", "enum": sorted(PAGE_EVENTS)}},
        "required": ["event"],
        "additionalProperties": False,
    },
)


@bp.post("/v/<token>/beacon")
@describe(
    "Report a page event for the conversion funnel",
    description="Sent by the hosted page. 204 when recorded; 409 `already_recorded` when this "
    "challenge already reported the event, or `not_pending` once it has ended.",
    tag="pages", body=EVENT, ok_status=204,
    ok=Content((), "recorded"), errors=(400, 404, 409, 413, 429, 503),
)  # fmt: skip
def beacon(token: str) -> Response:
    rt = runtime()
    name = _event(request.get_json(force=True, silent=True))
    if name is None:
        return error(400, "invalid_body", 'the body must be {"event": "<name>"}')
    ip = client_ip(rt.settings.limits.trusted_proxies)
    funnel.record_page_event(rt.ctx, token, name, ip, rt.settings.page.beacon_per_minute)
    response = Response(status=204)
    response.headers["Cache-Control"] = "no-store"
    return response


def _event(body: Any) -> str | None:
    if not isinstance(body, dict) or set(body) != {"event"}:
        return None
    name = body["event"]
    return name if isinstance(name, str) and len(name) <= 40 else None
