"""The hosted verification page at /v/<token>, its no-JavaScript renewal, and the theme.

The page works without JavaScript (a refresh every 15 s and a renewal form); with it,
static/page.js follows the status live. No inline script or style: everything the browser
runs or styles comes from static files, so a strict Content-Security-Policy holds. People
get pages, never JSON: an unknown or outdated link and an outage are HTML pages too, in the
user's language.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from app import assets
from app.domain import locales, phone, returns
from app.domain.challenges import Challenge
from app.runtime import Runtime, runtime
from app.store.base import StoreUnavailable
from app.usecases import apps, challenges, context, proofs, texts
from app.web import i18n
from app.web.openapi import Content, describe
from app.web.views import message_view, rfc3339, status_view

PAGE = Content(("text/html",), "an HTML page")
bp = Blueprint("pages", __name__)
bp.add_app_template_global(locales.direction, "direction")

# Phones and tablets whose messaging app an sms: link opens.
PHONE_AGENT = re.compile(r"Mobi|Android|iPhone|iPad|iPod|Windows Phone", re.IGNORECASE)
NOTICES = ("renewed", "too_soon")
FINAL = ("verified", "failed", "expired", "cancelled")
# Seconds the verified state shows before the page leads back to the app's return_url.
REDIRECT_DELAY = 3


@bp.get("/v/<token>")
@describe(
    "Hosted verification page", tag="pages", ok=PAGE,
    responses={404: Content(("text/html",), "an HTML page: this link no longer works"),
               503: Content(("text/html",), "an HTML page: try again shortly")},
)  # fmt: skip
def verify(token: str) -> Response | tuple[Response, int]:
    rt = runtime()
    try:
        challenge = challenges.challenge_for_token(rt.ctx, token)
        lang = i18n.language(rt.ctx.policy, challenge.locale, request.accept_languages)
        page = _page(rt, challenge, token, lang)
    except context.NotFound:
        return _problem(rt, "gone", 404)
    except (StoreUnavailable, context.Unavailable):
        return _problem(rt, "unavailable", 503)
    notice = request.args.get("notice")
    page["notice"] = notice if notice in NOTICES else None
    response = Response(render_template("verify.html", **page))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the URL holds the token
    return response


@bp.post("/v/<token>/renew")
@describe("Renew the code from the page (no JavaScript)", tag="pages", errors=(503,),
          responses={303: Content(("text/html",), "back to the page, with a notice")})  # fmt: skip
def renew(token: str) -> WerkzeugResponse:
    """Renew the code from the page's form (without JavaScript), then show the page again."""
    try:
        challenges.renew_code(runtime().ctx, token)
        notice = "renewed"
    except context.TooSoon:
        notice = "too_soon"
    except context.Conflict:
        notice = None
    except context.NotFound:
        notice = None  # the page itself says the link no longer works
    return redirect(url_for("pages.verify", token=token, notice=notice), 303)


@bp.get("/theme.css")
@describe("The operator's colours as CSS variables", tag="pages",
          ok=Content(("text/css",), "CSS"))  # fmt: skip
def theme() -> Response:
    """The operator's colours as CSS variables (from [page] in the settings)."""
    page = runtime().settings.page
    css = (
        f":root{{--accent:{page.accent};--accent-text:{page.accent_text};"
        f"--background:{page.background}}}\n"
    )
    response = Response(css, mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/favicon.ico")
@describe("The pages' icon", tag="pages", ok=Content(("image/svg+xml",), "an SVG icon"))
def favicon() -> Response:
    """The pages' icon (SVG, which browsers accept at /favicon.ico too), cached for a day."""
    with open(f"{assets.folder('static')}/favicon.svg", "rb") as file:
        response = Response(file.read(), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def _problem(rt: Runtime, kind: str, status: int) -> tuple[Response, int]:
    """An HTML page for a link that no longer works (404) or an outage (503)."""
    policy = rt.ctx.policy
    lang = i18n.choose(request.accept_languages, policy.languages, policy.default_language)
    words = i18n.messages(lang)
    html = render_template("problem.html", t=words, lang=lang, kind=kind, name=policy.operator_name)
    response = Response(html, status=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    if status == 503:
        response.headers["Retry-After"] = "5"
    return response, status


def _page(rt: Runtime, challenge: Challenge, token: str, lang: str) -> dict[str, Any]:
    code = challenges.code_for_token(challenge, token)  # None once final
    if code is None and not challenge.status.final:
        raise context.NotFound("not_found", "no such challenge")
    # The user deals with the app that sent them here: its name, as in the API's SMS text.
    name = apps.app_for(rt.ctx, challenge.app_id).name
    message = code and message_view(challenge, texts.sms_text(rt.ctx, code, name, lang), token, "")
    shown = code and texts.grouped_text(rt.ctx, code, name, lang)
    now = rt.ctx.clock.now()
    remaining = max(0, int((challenge.expires_at - now).total_seconds()))
    return {
        "t": i18n.messages(lang),
        "lang": lang,
        "name": name,
        "status": challenge.status.value,
        "view": status_view(challenge),
        "message": message,
        "shown_text": shown,
        "expected": challenge.phone and phone.mask(challenge.phone),
        "is_phone": bool(PHONE_AGENT.search(request.headers.get("User-Agent", ""))),
        "remaining": remaining,
        "countdown": f"{remaining // 60}:{remaining % 60:02d}",
        "now": rfc3339(now),
        "renew_in": challenges.renew_wait(rt.ctx, challenge),
        "token": token,
        "events_url": url_for("live.events", token=token),
        "status_url": url_for("api.status", token=token),
        "renew_url": url_for("live.renew", token=token),
        "final_statuses": FINAL,
        "returns": _returns(rt, challenge),
        "redirect_delay": REDIRECT_DELAY,
        "dev_phone_url": _dev_phone_url(message, shown)
        if message and rt.settings.development
        else None,
        "outbound": _outbound(rt, challenge, token),
    }


def _outbound(rt: Runtime, challenge: Challenge, token: str) -> dict[str, str] | None:
    """The fallback's URLs when codes can be sent to this challenge's expected phone."""
    if rt.fallback is None or not rt.fallback.senders or challenge.phone is None:
        return None
    return {
        "send_url": url_for("fallback.send", challenge_id=challenge.id),
        "check_url": url_for("fallback.check_by_token", token=token),
    }


def _returns(rt: Runtime, challenge: Challenge) -> dict[str, str]:
    """Where "Continue" leads from each final status (none without a return_url).

    Once verified, the way back carries the proof in its fragment (docs/proofs.md): only this
    page, which the status token opens, shows it, and no other state ever gets one.
    """
    if challenge.return_url is None:
        return {}
    links = {s: returns.with_result(challenge.return_url, challenge.id, s) for s in FINAL}
    proof = proofs.proof_for(rt.ctx, challenge) if challenge.status.value == "verified" else None
    if proof is not None:
        links["verified"] = returns.with_proof(links["verified"], proof)
    return links


def _dev_phone_url(message: dict[str, Any], text: str | None) -> str:
    """The phone simulator, prefilled with the text as the page shows it (codes in groups)."""
    return url_for("dev.phone", to=message["to"], text=text or message["body"])
