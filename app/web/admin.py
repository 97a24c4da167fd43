"""The operator dashboard at /admin, behind the `[admin] key`.

No key configured: every /admin route answers 404. Otherwise a request is let in with
`Authorization: Bearer <key>`, or with the session cookie the login form sets: an
itsdangerous-signed, time-limited fingerprint of the key (rotating the key ends every
session), HttpOnly, SameSite=Strict, Secure behind https, scoped to /admin.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response as WerkzeugResponse

from app import dashboard
from app.domain import phone
from app.domain.challenges import Outcome, Status
from app.web import charts
from app.web.client import client_ip
from app.web.errors import error
from app.web.openapi import Content, describe
from app.web.runtime import Runtime, runtime
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
# Failed logins one address may make per window before it is refused (429).
LOGIN_FAILURES = 10
LOGIN_WINDOW = 900
OUTCOMES = [o.value for o in Outcome]


def _key() -> str:
    key = runtime().settings.admin.key
    if not key:
        abort(404)
    return key


def _fingerprint(key: str) -> str:
    return hashlib.sha256(b"admin:" + key.encode()).hexdigest()[:32]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(runtime().settings.server.secret_key, salt=SALT)


def _same(given: str, key: str) -> bool:
    return hmac.compare_digest(_fingerprint(given), _fingerprint(key))


def _session_valid(key: str) -> bool:
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        return False
    max_age = runtime().settings.admin.session_hours * 3600
    try:
        fingerprint = _serializer().loads(cookie, max_age=max_age)
    except BadSignature:
        return False
    return isinstance(fingerprint, str) and hmac.compare_digest(fingerprint, _fingerprint(key))


def require_admin(view: F) -> F:
    """Let in a valid Bearer key or session; show others the login form (401)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        key = _key()
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            if _same(given.strip(), key):
                return view(*args, **kwargs)
            return error(401, "unauthorized", "the admin key is required")
        if _session_valid(key):
            return view(*args, **kwargs)
        return _login_page(failed=False), 401

    return wrapped  # type: ignore[return-value]


@bp.get("")
@describe(
    "Operator dashboard",
    description="HTML. Without a session or key: 401 with the login form.",
    tag="admin", ok=HTML, errors=(404,), responses={401: UNAUTHORIZED}, auth="admin",
)  # fmt: skip
@require_admin
def index() -> str:
    rt = runtime()
    window = request.args.get("window", dashboard.DEFAULT_WINDOW)
    if rt.stats is None:
        abort(404)
    figures = dashboard.overview(rt.stats, rt.ctx.clock.now(), window)
    return render_template(
        "admin/dashboard.html",
        o=figures,
        windows=list(dashboard.WINDOWS),
        charts=_charts(figures),
        per=_per(figures.step.total_seconds()),
        mask=phone.mask,
        name=rt.settings.server.name,
    )


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
    tag="admin", body=LOGIN_FORM, responses={303: REDIRECT, 401: HTML}, errors=(404, 429),
)  # fmt: skip
def login_post() -> WerkzeugResponse | tuple[str, int] | Response:
    key = _key()
    rt = runtime()
    guard = _login_guard(rt)
    if guard is not None and guard() is not None:
        refused = error(429, "too_many_logins", "too many failed logins; try again later")
        refused.headers["Retry-After"] = str(LOGIN_WINDOW)
        return refused
    if not _same(request.form.get("key", ""), key):
        if guard is not None:
            guard(fail=True)
        log.warning("admin login failed")
        return _login_page(failed=True), 401
    response = redirect(url_for("admin.index"), 303)
    response.set_cookie(
        COOKIE,
        _serializer().dumps(_fingerprint(key)),
        max_age=rt.settings.admin.session_hours * 3600,
        path="/admin",
        secure=rt.settings.server.public_url.startswith("https://"),
        httponly=True,
        samesite="Strict",
    )
    return response


def _login_guard(rt: Runtime) -> Callable[..., int | None] | None:
    """Return a function counting (fail=True) or checking failed logins from this address."""
    if rt.ctx.limits is None:
        return None
    counters = rt.ctx.limits.counters
    ip = client_ip(rt.settings.limits.trusted_proxies)
    name = "admin_login:" + rt.ctx.keys.digest("admin-login", ip)
    now = rt.ctx.clock.now()

    def guard(fail: bool = False) -> int | None:
        if fail:
            counters.hit(name, LOGIN_WINDOW, now)
            return None
        count = counters.peek(name, now)
        return count.value if count is not None and count.value >= LOGIN_FAILURES else None

    return guard


@bp.post("/logout")
@describe("Log out", tag="admin", responses={303: REDIRECT}, errors=(404,))
def logout() -> WerkzeugResponse:
    _key()
    response = redirect(url_for("admin.login"), 303)
    response.delete_cookie(COOKIE, path="/admin", httponly=True, samesite="Strict")
    return response
