"""The operator dashboard at /admin, behind the `[admin] key`.

No key configured: every /admin route answers 404. Otherwise a request is let in with
`Authorization: Bearer <key>`, or with the session cookie the login form sets: an
itsdangerous-signed, time-limited random session id, HttpOnly, SameSite=Strict, Secure behind
https, scoped to /admin. The session also lives server-side, in the shared limit counters
under a keyed digest of the id and the admin key: logout ends it there (a cookie captured
before logout is refused after it), it ends with its lifetime, and rotating the key or the
server secret ends every session. Wrong keys, by form or Bearer, are throttled per address
(app/web/throttle.py).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response as WerkzeugResponse

from app.domain import emails, phone
from app.domain.challenges import Outcome, Status
from app.limits.rules import Counters, LimitsUnavailable
from app.runtime import Runtime, runtime
from app.usecases import dashboard
from app.web import charts, throttle
from app.web.errors import error
from app.web.openapi import Content, describe
from app.web.views import ErrorBody

bp = Blueprint("admin", __name__, url_prefix="/admin")
log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
COOKIE = "rotp_admin"
SALT = "reverse-otp admin session"
HTML = Content(("text/html",), "an HTML page")
REDIRECT = Content(("text/html",), "see Location")
UNAUTHORIZED = Content(
    ("text/html", "application/json"),
    "not logged in: the login form (HTML), or an error (JSON) for a wrong Bearer key",
    model=ErrorBody,
)
LOGIN_FORM = Content(
    ("application/x-www-form-urlencoded",),
    schema={"type": "object", "properties": {"key": {"type": "string"}}, "required": ["key"]},
)
STATUSES = [s.value for s in Status]
OUTCOMES = [o.value for o in Outcome]


def _key() -> str:
    key = runtime().settings.admin.key
    if not key:
        abort(404)
    return key


def _fingerprint(key: str) -> str:
    return hashlib.sha256(b"admin:" + key.encode()).hexdigest()


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(runtime().settings.server.secret_key, salt=SALT)


def _same(given: str, key: str) -> bool:
    return hmac.compare_digest(_fingerprint(given), _fingerprint(key))


def _lifetime(rt: Runtime) -> int:
    return rt.settings.admin.session_hours * 3600


def _session_name(rt: Runtime, session_id: str, key: str) -> str:
    """Name the server-side record of a session; a new key or secret names another one."""
    return "admin_session:" + rt.ctx.keys.digest("admin-session", f"{session_id}:{key}")[:32]


def _counters(rt: Runtime) -> Counters:
    if rt.ctx.limits is None:
        raise LimitsUnavailable("no shared counters to hold admin sessions")
    return rt.ctx.limits.counters


def _session_id(rt: Runtime) -> str | None:
    """Return the session id of a genuine, unexpired cookie, or None."""
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        return None
    try:
        data = _serializer().loads(cookie, max_age=_lifetime(rt))
    except BadSignature:
        return None
    found = data.get("sid") if isinstance(data, dict) else None
    return found if isinstance(found, str) else None


def _session_valid(key: str) -> bool:
    rt = runtime()
    session_id = _session_id(rt)
    if session_id is None:
        return False
    count = _counters(rt).peek(_session_name(rt, session_id, key), rt.ctx.clock.now())
    return count is not None and count.value > 0


def _bearer(key: str, given: str) -> Any:
    """Answer a Bearer attempt: None lets the view run, else the refusal."""
    refused = throttle.refused("admin")
    if refused is not None:
        return refused
    if _same(given, key):
        return None
    throttle.failed("admin")
    log.warning("admin Bearer key refused")
    return error(401, "unauthorized", "the admin key is required")


def require_admin(view: F) -> F:
    """Let in a valid Bearer key or session; show others the login form (401)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        key = _key()
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            refusal = _bearer(key, given.strip())
            return view(*args, **kwargs) if refusal is None else refusal
        if _session_valid(key):
            return view(*args, **kwargs)
        return _login_page(failed=False), 401

    return wrapped  # type: ignore[return-value]


@bp.get("")
@describe(
    "Operator dashboard",
    description="HTML. Without a session or key: 401 with the login form.",
    tag="admin", ok=HTML, errors=(404, 429, 503), responses={401: UNAUTHORIZED}, auth="admin",
)  # fmt: skip
@require_admin
def index() -> str:
    rt = runtime()
    window = request.args.get("window", dashboard.DEFAULT_WINDOW)
    if rt.stats is None:
        abort(404)
    figures = dashboard.overview(rt.stats, rt.ctx.clock.now(), window)
    query = request.args.get("q", "")[:64]
    return render_template(
        "admin/dashboard.html",
        o=figures,
        funnels=dashboard.funnels(rt.stats, rt.ctx.clock.now(), figures.window),
        app_names=_app_names(rt),
        query=query,
        found=dashboard.search(rt.stats, query),
        search_min=dashboard.SEARCH_MIN,
        windows=list(dashboard.WINDOWS),
        charts=_charts(figures),
        per=_per(figures.step.total_seconds()),
        mask=phone.mask,
        mask_email=emails.mask,
        name=rt.settings.server.name,
        outbound=_outbound(rt, figures.since),
    )


def _outbound(rt: Runtime, since: datetime) -> dict[str, Any] | None:
    """The fallback's lines: sends per sender and country by status, refusals per guard."""
    if rt.fallback is None:
        return None
    table: dict[tuple[str, str], dict[str, int]] = {}
    for sender, country, status, count in rt.fallback.store.counts(since):
        table.setdefault((sender, country), {})[status] = count
    return {"sends": table, "refusals": rt.fallback.guard.refusals(rt.ctx.clock.now())}


def _app_names(rt: Runtime) -> dict[str, str]:
    """Names of the apps by id ("" and "default": the built-in app)."""
    names = {app.id: app.name for app in rt.ctx.store.list_apps()}
    default = rt.ctx.default_app.name
    return names | {"": default, rt.ctx.default_app.id: default}


def _per(seconds: float) -> str:
    if seconds == 3600:
        return "hour"
    return f"{seconds / 3600:g} hours" if seconds > 3600 else f"{seconds / 60:g} minutes"


def _charts(o: dashboard.Overview) -> dict[str, Any]:
    fmt = "%H:%M" if o.step.total_seconds() < 86400 else "%d %b"
    every = max(1, len(o.bins) // 12)
    labels = [b.start.strftime(fmt if o.window != "7d" else "%a %H:%M") for b in o.bins]
    return {
        "verified": charts.columns(
            [(lbl, b.verified) for lbl, b in zip(labels, o.bins, strict=True)],
            "Verifications", label_every=every,
        ),
        "rate": charts.columns(
            [(lbl, b.rate) for lbl, b in zip(labels, o.bins, strict=True)],
            "Success rate", percent=True, label_every=every,
        ),
        "ttv": charts.columns(o.time_to_verify, "Time to verify"),
        "failures": charts.hbars(o.failures, "Challenges not verified, by reason"),
        "unmatched": charts.hbars(o.unmatched, "Inbound SMS not matched, by outcome"),
        "providers": charts.stacked(o.providers, OUTCOMES, "Inbound SMS per provider"),
        "numbers": charts.stacked(
            o.numbers, STATUSES, "Challenges per virtual number", width=1440
        ),
    }  # fmt: skip


@bp.get("/login")
@describe("Admin login form", tag="admin", ok=HTML, errors=(404,))
def login() -> str:
    _key()
    return _login_page(failed=False)


def _login_page(failed: bool) -> str:
    return render_template("admin/login.html", failed=failed, name=runtime().settings.server.name)


@bp.post("/login")
@describe(
    "Log in with the admin key",
    description="Sets the session cookie and redirects to /admin (303); a wrong key gets 401.",
    tag="admin", body=LOGIN_FORM, responses={303: REDIRECT, 401: HTML}, errors=(404, 429, 503),
)  # fmt: skip
def login_post() -> WerkzeugResponse | tuple[str, int] | Response:
    key = _key()
    rt = runtime()
    refused = throttle.refused("admin")
    if refused is not None:
        return refused
    if not _same(request.form.get("key", ""), key):
        throttle.failed("admin")
        log.warning("admin login failed")
        return _login_page(failed=True), 401
    session_id = secrets.token_urlsafe(24)
    _counters(rt).hit(_session_name(rt, session_id, key), _lifetime(rt), rt.ctx.clock.now())
    response = redirect(url_for("admin.index"), 303)
    response.set_cookie(
        COOKIE,
        _serializer().dumps({"sid": session_id}),
        max_age=_lifetime(rt),
        path="/admin",
        secure=rt.settings.server.public_url.startswith("https://"),
        httponly=True,
        samesite="Strict",
    )
    return response


@bp.post("/logout")
@describe("Log out", tag="admin", responses={303: REDIRECT}, errors=(404, 503))
def logout() -> WerkzeugResponse:
    """End the session server-side (its cookie is refused from now on) and clear the cookie."""
    key = _key()
    rt = runtime()
    session_id = _session_id(rt)
    if session_id is not None:
        name = _session_name(rt, session_id, key)
        counters = _counters(rt)
        count = counters.peek(name, rt.ctx.clock.now())
        if count is not None and count.value > 0:
            counters.hit(name, _lifetime(rt), rt.ctx.clock.now(), -count.value)
    response = redirect(url_for("admin.login"), 303)
    response.delete_cookie(COOKIE, path="/admin", httponly=True, samesite="Strict")
    return response
