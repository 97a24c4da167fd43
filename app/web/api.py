"""The JSON API under /api/v1. Routes translate; the use cases decide."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Response, abort, g, jsonify, request

from app.domain import links
from app.domain.challenges import Challenge
from app.runtime import runtime
from app.usecases import apps, challenges, checks, context, proofs, texts
from app.web import i18n, live, qr, throttle
from app.web.errors import error
from app.web.openapi import Content, describe
from app.web.schemas import CheckCode, CreateChallenge, parse_body
from app.web.views import (
    ChallengeView,
    CreatedView,
    StatusView,
    challenge_view,
    created_view,
    status_view,
)

bp = Blueprint("api", __name__, url_prefix="/api/v1")

F = TypeVar("F", bound=Callable[..., Any])


def require_api_key(view: F) -> F:
    """Refuse a request without a valid `Authorization: Bearer <key>` (401).

    Wrong keys are throttled per client address (app/web/throttle.py): over the limit, the
    key is not even looked up (429).
    """

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        presented = request.headers.get("Authorization", "")
        refused = throttle.refused("api") if presented else None
        if refused is not None:
            return refused
        scheme, _, key = presented.partition(" ")
        rt = runtime()
        caller = None
        if scheme.lower() == "bearer":
            caller = apps.caller(rt.ctx, key.strip(), rt.settings.api.keys)
        if caller is None:
            if presented:
                throttle.failed("api")
            response = error(401, "unauthorized", "a valid API key is required (Bearer token)")
            response.headers["WWW-Authenticate"] = 'Bearer realm="reverse-otp"'
            return response
        g.api_caller = caller.identity
        g.api_app = caller.app
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


@bp.post("/challenges")
@describe(
    "Create a challenge", ok=CreatedView, ok_status=201, body=CreateChallenge,
    description="`client_ip` (optional) is the end user's address as your backend sees it:"
    " the per-IP creation limit counts it, and only when it is given. `locale` (optional, BCP"
    " 47) fixes the language of the SMS and the hosted page; `return_url` (optional, https,"
    " an allowed origin) is where the page's final state leads.",
    errors=(400, 401, 413, 429, 503), auth="api_key",
)  # fmt: skip
@require_api_key
def create() -> tuple[Response, int]:
    data = request.get_json(silent=True) if request.is_json else None
    if data is None:
        return error(
            400, "invalid_json", "the body must be JSON (Content-Type: application/json)"
        ), 400
    body = parse_body(CreateChallenge, data)
    rt = runtime()
    created = challenges.create_challenge(
        rt.ctx,
        body.phone,
        body.ttl,
        body.metadata or {},
        caller=g.api_caller,
        # The integrator's backend is the peer: count the end user it names, if it does.
        client_ip=body.client_ip,
        app=g.api_app,
        callback_url=body.callback_url,
        channels=body.channels,
        locale=body.locale,
        return_url=body.return_url,
        email=body.email,
    )
    lang = i18n.language(rt.ctx.policy, created.challenge.locale, request.accept_languages)
    text = texts.sms_text(rt.ctx, created.code, g.api_app.name, lang)
    return jsonify(created_view(created, text, rt.settings.server.public_url)), 201


@bp.get("/challenges/<challenge_id>")
@describe("Show a challenge", ok=ChallengeView, errors=(401, 404, 429, 503), auth="api_key")
@require_api_key
def show(challenge_id: str) -> Response:
    ctx = runtime().ctx
    challenge = _owned(challenges.get_challenge(ctx, challenge_id))
    response = jsonify(challenge_view(challenge, proofs.proof_for(ctx, challenge)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/challenges/<challenge_id>/cancel")
@describe(
    "Cancel a pending challenge",
    ok=ChallengeView,
    errors=(401, 404, 409, 429, 503),
    auth="api_key",
)
@require_api_key
def cancel(challenge_id: str) -> Response:
    ctx = runtime().ctx
    _owned(challenges.get_challenge(ctx, challenge_id))
    return jsonify(challenge_view(challenges.cancel_challenge(ctx, challenge_id)))


@bp.post("/challenges/<challenge_id>/check")
@describe(
    "Check a code the user typed", ok=ChallengeView, body=CheckCode,
    description="For a phone listed in `[[test_numbers]]`: its code verifies the challenge"
    " (`method: \"test\"`) without an SMS. A wrong code is a failed attempt (the answer shows"
    " `attempts`; the challenge fails at the limit). Refused with 403 `check_refused`, changing"
    " nothing, for a discovery challenge or a phone no source of codes knows.",
    errors=(400, 401, 403, 404, 409, 429, 503), auth="api_key",
)  # fmt: skip
@require_api_key
def check(challenge_id: str) -> Response:
    body = parse_body(CheckCode, _json_body())
    ctx = runtime().ctx
    challenge = _owned(challenges.get_challenge(ctx, challenge_id))
    verified = checks.check_code(ctx, challenge, body.code)
    return jsonify(challenge_view(verified, proofs.proof_for(ctx, verified)))


def _json_body() -> Any:
    """Return the decoded JSON body; a body that is not JSON is a 400 `invalid_json`."""
    data = request.get_json(silent=True) if request.is_json else None
    if data is None:
        raise context.ServiceError(
            "invalid_json", "the body must be JSON (Content-Type: application/json)"
        )
    return data


def _owned(challenge: Challenge) -> Challenge:
    """Return the challenge if the calling app owns it; another app's is not found (404)."""
    if not g.api_app.owns(challenge.app_id):
        raise context.NotFound("not_found", "no such challenge")
    return challenge


@bp.get("/status/<token>")
@describe(
    "A challenge's status, for the user's browser", tag="status", ok=StatusView,
    errors=(400, 404, 429, 503),
    query={"wait": {"type": "number", "minimum": 0, "description": "long poll: answer once "
                    "the status is final, or after this many seconds ([streams] max_wait); "
                    "waiting long polls count against the stream caps (429 past them)"}},
)  # fmt: skip
def status(token: str) -> Response:
    if "wait" in request.args:
        return live.long_poll(token, request.args["wait"])
    response = jsonify(status_view(challenges.challenge_for_token(runtime().ctx, token)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/status/<token>/qr.<fmt>", endpoint="qr")
@describe(
    "QR code of the SMS to send", tag="status", errors=(404, 503),
    ok=Content(("image/svg+xml", "image/png"), "the QR code", {"type": "string"}),
    params={"fmt": {"enum": ["svg", "png"], "description": "image format"}},
    query={"channel": {"enum": ["sms", "whatsapp"], "description": "the SMSTO: payload (sms, "
                       "default) or the wa.me link (whatsapp, when the challenge offers it)"}},
)  # fmt: skip
def qr_code(token: str, fmt: str) -> Response:
    if fmt not in ("svg", "png"):
        abort(404)
    ctx = runtime().ctx
    challenge = challenges.challenge_for_token(ctx, token)
    code = challenges.code_for_token(challenge, token)
    if code is None:
        abort(404)
    channel = request.args.get("channel", "sms")
    if channel not in challenge.channels and channel != "sms":
        abort(404)
    name = apps.app_for(ctx, challenge.app_id).name
    lang = i18n.language(ctx.policy, challenge.locale, request.accept_languages)
    text = texts.sms_text(ctx, code, name, lang)
    payload = (
        links.whatsapp_uri(challenge.number, text)
        if channel == "whatsapp"
        else links.smsto_payload(challenge.number, text)
    )
    mimetype = "image/svg+xml" if fmt == "svg" else "image/png"
    response = Response(qr.render(payload, fmt), mimetype=mimetype)
    response.headers["Cache-Control"] = "private, no-store"
    return response
