"""Provider webhooks: one generic route for every adapter in the registry.

HTTP semantics: unknown or disabled provider 404; failed authenticity 403 with a terse body
(401 with a Basic challenge when HTTP Basic credentials are missing or wrong);
unreadable request 400; our own failure before the message is stored (or a check that
cannot be made now, such as fetching a signing certificate) 503, so the provider retries;
handled, unmatched or already-stored messages get the adapter's 2xx answer.
`/webhooks/<provider>/<token>` carries the secret path token of providers that sign nothing.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, request

from app.providers.base import Malformed, Rejected, TryLater, WebhookRequest
from app.runtime import runtime
from app.store.base import StoreUnavailable
from app.usecases import inbound
from app.web import throttle
from app.web.errors import error
from app.web.openapi import Content, describe

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
# Rejections that are wrong guesses of a path token or Basic credential: counted per address.
GUESSES = frozenset({"bad_path_token", "bad_credentials"})
log = logging.getLogger(__name__)


ACK = Content(
    ("application/json", "application/xml", "text/xml", "text/plain"),
    "stored (matched, unmatched or a redelivery): the provider's expected acknowledgement",
)
REFUSED = Content(("text/plain",), "the request is not provably from the provider")
UNAUTHORIZED = Content(("text/plain",), "HTTP Basic credentials missing or wrong (challenge)")
PAYLOAD = Content(
    ("application/x-www-form-urlencoded", "application/json"),
    schema={"type": "object", "additionalProperties": {"type": "string"}},
)


@bp.route("/<provider>", methods=["GET", "POST"])
@bp.route("/<provider>/<token>", methods=["GET", "POST"])
@describe(
    "Receive inbound SMS from a provider",
    description="Called by the SMS provider, never by integrators. Each provider signs and "
    "shapes its request its own way (see docs/providers.md); the request is verified, stored "
    "once per provider message id, then matched. The `token` form is for providers that sign "
    "nothing: the secret path token configured for them. A provider's subscription handshake "
    "(WhatsApp: GET with hub.mode, hub.verify_token, hub.challenge) is answered here too.",
    tag="webhooks", ok=ACK, body=PAYLOAD, errors=(400, 404, 503),
    responses={401: UNAUTHORIZED, 403: REFUSED},
    params={
        "provider": lambda app: {"enum": sorted(app.extensions["reverse_otp"].providers)},
        "token": {"description": "the provider's secret path token (providers that sign nothing)"},
    },
)  # fmt: skip
def receive(provider: str, token: str | None = None) -> Response:
    rt = runtime()
    adapter = rt.providers.get(provider)
    if adapter is None:
        abort(404)
    if request.method == "HEAD":
        return Response("", 200)  # reachability probes (Textmagic tests its URL this way)
    realm = f"webhook:{provider}"
    guessable = bool(getattr(adapter, "guessable", False))
    if guessable and (over := throttle.refused(realm)) is not None:
        return over
    incoming = _webhook_request(rt.settings.server.public_url, token)
    try:
        if (answer := adapter.handshake(incoming)) is not None:
            return Response(answer.body, answer.status, content_type=answer.content_type)
        adapter.verify(incoming, rt.ctx.clock.now())
        messages = adapter.parse(incoming)
    except Rejected as exc:
        log.warning("webhook rejected provider=%s reason=%s", provider, exc.reason)
        rt.ctx.observer.webhook_rejected(provider, exc.reason)
        if guessable and exc.reason in GUESSES:
            throttle.failed(realm)
        if exc.credentials:
            challenge = {"WWW-Authenticate": 'Basic realm="reverse-otp webhooks"'}
            return Response("unauthorized\n", 401, challenge, mimetype="text/plain")
        return Response("forbidden\n", 403, mimetype="text/plain")
    except Malformed as exc:
        rt.ctx.observer.webhook_rejected(provider, "malformed")
        return error(400, "malformed_webhook", str(exc))
    except TryLater as exc:
        log.error("webhook deferred provider=%s: %s", provider, exc)
        return error(503, "try_later", "cannot check this request now; retry later")
    except StoreUnavailable as exc:  # a check that reads the database (nonces)
        log.error("webhook not checked provider=%s: %s", provider, exc)
        return error(503, "store_unavailable", "cannot check this request now; retry later")
    try:
        verdicts = [inbound.receive(rt.ctx, m) for m in messages]
    except StoreUnavailable as exc:
        log.error("webhook not stored provider=%s: %s", provider, exc)
        return error(503, "store_unavailable", "not stored; retry later")
    reply = adapter.acknowledge(verdicts)
    return Response(reply.body, reply.status, content_type=reply.content_type)


def _webhook_request(public_url: str, token: str | None) -> WebhookRequest:
    """Build the framework-free request, with the URL as the provider called it publicly."""
    raw_uri = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if not raw_uri:
        query = request.query_string.decode("latin-1")
        raw_uri = request.path + (f"?{query}" if query else "")
    path = (
        raw_uri[len(request.script_root) :] if raw_uri.startswith(request.script_root) else raw_uri
    )
    return WebhookRequest(
        method=request.method,
        url=public_url + path,
        headers={k.lower(): v for k, v in request.headers.items()},
        body=request.get_data(cache=True),
        query=list(request.args.items(multi=True)),
        remote_addr=request.remote_addr or "",
        path_token=token,
    )
