"""Development mode only: the demo page at / and the phone simulator at /dev/phone.

Registered only when `[server] mode = "development"`, so both are 404 in production. The
phone page signs a simulated SMS here, on the server (the simulator secret never reaches the
browser), and the browser posts it to the real simulator webhook, like a provider would.
"""

from __future__ import annotations

import json
import secrets

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from app.providers.simulator import HEADER, sign
from app.runtime import runtime
from app.usecases import challenges
from app.web import i18n
from app.web.client import client_ip
from app.web.errors import error
from app.web.live_state import live_state
from app.web.openapi import Content, describe
from app.web.pages import PAGE

bp = Blueprint("dev", __name__)


@bp.get("/")
@describe("Demo page (development mode only)", tag="pages", ok=PAGE)
def demo() -> str:
    words = i18n.messages(i18n.choose(request.accept_languages))
    limited = request.args.get("limited") == "1"
    return render_template("demo.html", t=words, lang=_lang(), limited=limited, **_names())


@bp.post("/demo")
@describe("Start a demo challenge (development mode only)", tag="pages",
          responses={303: Content(("text/html",), "to the hosted page")})  # fmt: skip
def try_it() -> WerkzeugResponse:
    """Create a discovery challenge (a few per address per minute) and open its page."""
    rt = runtime()
    ip = client_ip(rt.settings.limits.trusted_proxies)
    if not live_state().demo.allow(ip or "-"):
        return redirect(url_for("dev.demo", limited=1), 303)
    created = challenges.create_challenge(rt.ctx, None, None, {"demo": True}, client_ip=ip)
    return redirect(url_for("pages.verify", token=created.token), 303)


@bp.get("/dev/phone")
@describe("Phone simulator page (development mode only)", tag="pages", ok=PAGE)
def phone() -> str:
    words = i18n.messages(i18n.choose(request.accept_languages))
    rt = runtime()
    numbers = [n.number for n in rt.settings.numbers if n.provider == "simulator"]
    return render_template("phone.html", t=words, lang=_lang(), numbers=numbers, **_names())


@bp.post("/dev/phone/sign")
@describe("Sign a simulator SMS (development mode only)", tag="pages", errors=(400,),
          ok=Content(("application/json",), "the signed webhook request"))  # fmt: skip
def sign_sms() -> Response:
    """Return a signed simulator webhook body for {from, to, text}."""
    data = request.get_json(silent=True)
    fields = ("from", "to", "text")
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in fields):
        return error(400, "invalid_request", "send JSON with from, to and text strings")
    section = runtime().settings.providers.get("simulator") or {}
    if not section.get("secret"):
        return error(404, "not_found", "the simulator is not enabled")
    payload = {k: data[k] for k in fields} | {"id": "sim-" + secrets.token_hex(8)}
    body = json.dumps(payload)
    return jsonify(
        {
            "url": url_for("webhooks.receive", provider="simulator"),
            "body": body,
            "header": HEADER,
            "signature": sign(section["secret"], body.encode()),
        }
    )


def _lang() -> str:
    return i18n.choose(request.accept_languages)


def _names() -> dict[str, str]:
    return {"name": runtime().settings.server.name}
