"""Live status over HTTP: the SSE stream, the long poll, the SMS details and code renewal.

These answer to whoever holds the status token (the token is the credential; no cookie is
read). Browsers on other origins (the widget on an integrator's page) may call them when the
origin is listed in `[api] cors_origins` (app/web/headers.py applies that policy).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Flask, Response, jsonify, request

from app.domain.challenges import Challenge
from app.events.limits import RateLimit, StreamLimits
from app.events.stream import Snapshot, Subscription, events, wait_for_change
from app.runtime import EXTENSION as RUNTIME
from app.runtime import Runtime, runtime
from app.usecases import apps, challenges, texts
from app.web import i18n
from app.web.client import client_ip
from app.web.errors import error
from app.web.live_state import EXTENSION, Live, live_state
from app.web.openapi import Content, describe
from app.web.views import MessageView, message_view, status_view

bp = Blueprint("live", __name__, url_prefix="/api/v1")


def register(app: Flask) -> None:
    """Register the live API, the hosted page and, in development, the demo pages."""
    from app.web import beacon, dev, pages

    settings = app.extensions[RUNTIME].settings
    limits = StreamLimits(settings.streams.max_per_ip, settings.streams.max_per_token)
    app.extensions[EXTENSION] = Live(limits, RateLimit(settings.page.demo_per_minute, 60.0))
    app.register_blueprint(bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(beacon.bp)
    if settings.development:
        app.register_blueprint(dev.bp)


def reader(rt: Runtime, token: str) -> Callable[[], Snapshot]:
    """Return a function reading the challenge's current status (expiring it when due)."""

    def read() -> Snapshot:
        challenge = challenges.challenge_for_token(rt.ctx, token)
        return Snapshot(challenge.status.value, challenge.expires_at, status_view(challenge))

    return read


@bp.get("/status/<token>/events", endpoint="events")
@describe(
    "Live status stream (Server-Sent Events)", tag="status", errors=(404, 429, 503),
    ok=Content(("text/event-stream",), "one `status` event per change; ends when final"),
    responses={204: Content((), "already final and the client has that event (Last-Event-ID)")},
)  # fmt: skip
def events_stream(token: str) -> Response:
    rt = runtime()
    challenge = challenges.challenge_for_token(rt.ctx, token)
    last_id = request.headers.get("Last-Event-ID")
    if challenge.status.final and last_id == challenge.status.value:
        return Response(status=204)  # the client has the end: stop reconnecting
    ip = client_ip(rt.settings.limits.trusted_proxies) or "-"
    limits = live_state().streams
    refused = _refuse_stream(limits.acquire(ip, challenge.id))
    if refused is not None:
        return refused
    subscription = Subscription(rt.ctx.bus, challenge.id)
    cfg = rt.settings.streams
    read = reader(rt, token)
    body = events(subscription, read, rt.ctx.clock.now, cfg.heartbeat, cfg.retry_ms, last_id)

    released: list[bool] = []

    def release() -> None:  # called when the server closes the answer, even unstarted
        if not released:
            released.append(True)
            subscription.close()
            limits.release(ip, challenge.id)
            rt.ctx.observer.stream_closed()

    response = Response(body, mimetype="text/event-stream")
    rt.ctx.observer.stream_opened()
    response.call_on_close(release)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: do not buffer this answer
    return response


def _refuse_stream(cap: str | None) -> Response | None:
    """Return the 429 answer for a stream or long poll past a cap ("ip" or "challenge")."""
    if cap is None:
        return None
    response = error(429, "too_many_streams", f"too many open streams for this {cap}")
    response.headers["Retry-After"] = "10"
    return response


def long_poll(token: str, wait: str) -> Response:
    """Answer GET /status/<token>?wait=N: the status once final, or after N seconds.

    A waiting long poll holds a connection like a stream: it counts against the same caps
    per client address and per challenge ([streams] max_per_ip, max_per_token).
    """
    rt = runtime()
    try:
        seconds = float(wait)
    except ValueError:
        return error(400, "invalid_wait", "wait must be a number of seconds")
    if not 0 <= seconds <= rt.settings.streams.max_wait:
        limit = rt.settings.streams.max_wait
        return error(400, "invalid_wait", f"wait must be between 0 and {limit} seconds")
    challenge = challenges.challenge_for_token(rt.ctx, token)
    ip = client_ip(rt.settings.limits.trusted_proxies) or "-"
    limits = live_state().streams
    refused = _refuse_stream(limits.acquire(ip, challenge.id))
    if refused is not None:
        return refused
    try:
        subscription = Subscription(rt.ctx.bus, challenge.id)
        try:
            snapshot = wait_for_change(subscription, reader(rt, token), rt.ctx.clock.now, seconds)
        finally:
            subscription.close()
    finally:
        limits.release(ip, challenge.id)
    response = jsonify(snapshot.data)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/status/<token>/message")
@describe(
    "What to send: number, text, sms: link, QR", tag="status", ok=MessageView,
    errors=(404, 409, 503),
)  # fmt: skip
def message(token: str) -> Response:
    rt = runtime()
    challenge = challenges.challenge_for_token(rt.ctx, token)
    code = challenges.code_for_token(challenge, token)
    if code is None or challenge.status.final:
        return error(409, "not_pending", f"challenge is {challenge.status.value}")
    body = message_view(challenge, _text(rt, challenge, code), token, _base(rt))
    body["renew_in"] = challenges.renew_wait(rt.ctx, challenge)
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/status/<token>/renew")
@describe(
    "Get a new code (after the cooldown)", tag="status", ok=MessageView,
    errors=(404, 409, 429, 503),
)  # fmt: skip
def renew(token: str) -> Response:
    rt = runtime()
    challenge, code = challenges.renew_code(rt.ctx, token)
    body = message_view(challenge, _text(rt, challenge, code), token, _base(rt))
    body["renew_in"] = challenges.renew_wait(rt.ctx, challenge)
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


def _text(rt: Runtime, challenge: Challenge, code: str) -> str:
    """Return the SMS text naming the challenge's app, in the page's language."""
    lang = i18n.language(rt.ctx.policy, challenge.locale, request.accept_languages)
    name = apps.app_for(rt.ctx, challenge.app_id).name
    return texts.sms_text(rt.ctx, code, name, lang)


def _base(rt: Runtime) -> str:
    return rt.settings.server.public_url
