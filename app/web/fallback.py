"""The fallback's routes: send a code to the user, check it, receive delivery receipts.

`/send` takes an API key (`Authorization: Bearer`), or the challenge's status token in the
JSON body (`{"token": ...}`) from the hosted page. Codes are checked by
`POST /api/v1/challenges/<id>/check` (app/usecases/checks.py, where OutboundCodes vouches
for them), or from the hosted page by `POST /api/v1/status/<token>/check`. Routes translate; the use
cases in app/usecases/fallback.py decide.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from flask import Blueprint, Response, g, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.domain import emails, phone
from app.domain.challenges import Challenge
from app.providers.base import Malformed, Rejected
from app.runtime import runtime
from app.usecases import apps, challenges, checks, context
from app.usecases import fallback as usecase
from app.web.api import require_api_key
from app.web.errors import error
from app.web.openapi import Content, describe
from app.web.views import StatusView, View, status_view

bp = Blueprint("fallback", __name__)
log = logging.getLogger(__name__)


class SendBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {},
                {"token": "m3Q0c2tZVnVhS1N5cXlCd0hXb3l6a3JpN3RnTmZ4dFg"},
                {"channel": "email"},
            ]
        },
    )

    token: str | None = Field(None, max_length=128, description="status token (hosted page)")
    channel: Literal["sms", "email"] | None = Field(
        None,
        description="sms (to the expected phone) or email (to the expected address); default:"
        " sms when the challenge has an expected phone, else email",
    )


class CheckBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid", strict=True, json_schema_extra={"examples": [{"code": "482913"}]}
    )

    code: str = Field(min_length=1, max_length=64, description="the code the user received")


class SentView(View):
    """A code on its way to the user."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"id": "snd_Jq4vZk1xR2mB", "status": "sent", "channel": "sms",
                 "to": "+33 6** *** *78", "resend_after": 30, "sends_left": 3}
            ]
        }
    )  # fmt: skip

    id: str = Field(description="send id (snd_...)")
    status: str = Field(description="sent (the provider took it)")
    channel: str = Field(description="sms or email")
    to: str | None = Field(description="masked number or address the code went to")
    resend_after: int = Field(description="seconds before another code may be sent")
    sends_left: int = Field(description="codes that may still be sent for this challenge")


def _body(model: type[SendBody] | type[CheckBody]) -> Any:
    data = request.get_json(silent=True) if request.is_json else {}
    if not isinstance(data, dict):
        raise context.ServiceError("invalid_request", "the body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise context.ServiceError("invalid_request", f"{where}: {first['msg']}") from None


def _authorised(challenge_id: str, token: str | None) -> tuple[Challenge, bool]:
    """Return the challenge and whether an API key (not a status token) opened it."""
    ctx = runtime().ctx
    if token is not None and not request.headers.get("Authorization"):
        challenge = challenges.challenge_for_token(ctx, token)
        if challenge.id != challenge_id:
            raise context.NotFound("not_found", "no such challenge")
        return challenge, False
    found: list[Challenge] = []

    def opened() -> Response:
        found.append(_owned(challenge_id))
        return Response(status=204)

    answer: Response = require_api_key(opened)()
    if not found:
        raise _Refused(answer)
    return found[0], True


class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def _owned(challenge_id: str) -> Challenge:
    challenge = challenges.get_challenge(runtime().ctx, challenge_id)
    if not g.api_app.owns(challenge.app_id):
        raise context.NotFound("not_found", "no such challenge")
    return challenge


@bp.errorhandler(_Refused)
def _refused(exc: _Refused) -> Response:
    return exc.response


@bp.post("/api/v1/challenges/<challenge_id>/send")
@describe(
    "Send a code to the user (fallback)", ok=SentView, ok_status=202, body=SendBody,
    description="Sends a fresh numeric code by SMS to the challenge's expected phone, through"
    " the first configured sender serving its country, or (`channel: email`) by email to its"
    " expected address through the first email sender, after the pumping guards. Default"
    " channel: sms when the challenge has an expected phone, else email. API key, or the"
    " status token in the body. 404 `fallback_disabled` when no sender is configured.",
    errors=(400, 401, 403, 404, 409, 429, 502, 503), auth="api_key",
)  # fmt: skip
def send(challenge_id: str) -> tuple[Response, int]:
    rt = runtime()
    usecase.enabled(rt.fallback)
    body = _body(SendBody)
    challenge, _ = _authorised(challenge_id, body.token)
    name = apps.app_for(rt.ctx, challenge.app_id).name
    sent = usecase.send_code(rt.ctx, rt.fallback, challenge, name, body.channel)
    fb = usecase.enabled(rt.fallback)
    previous = fb.store.for_challenge(challenge.id)
    emailed = sent.channel == "email"
    to = emails.mask(challenge.email) if emailed else phone.mask(challenge.phone)
    view = SentView(
        id=sent.id, status=sent.status, channel=sent.channel, to=to,
        resend_after=usecase.send_wait(fb, previous, rt.ctx.clock.now()),
        sends_left=max(0, fb.max_sends - len(previous)),
    )  # fmt: skip
    return jsonify(view.model_dump(mode="json")), 202


@bp.post("/api/v1/status/<token>/check")
@describe(
    "Check a code sent to the user, from the hosted page", tag="status", ok=StatusView,
    body=CheckBody,
    description="The hosted page's code form: the status token opens the challenge, then the"
    " code is checked as by `POST /api/v1/challenges/<id>/check` (a wrong code is a failed"
    " attempt). Answers the status view.",
    errors=(400, 403, 404, 409, 503),
)  # fmt: skip
def check_by_token(token: str) -> Response:
    ctx = runtime().ctx
    body = _body(CheckBody)
    challenge = challenges.challenge_for_token(ctx, token)
    return jsonify(status_view(checks.check_code(ctx, challenge, body.code)))


RECEIPT = Content(("text/plain",), "the receipt was read (or was of no interest)")


@bp.route("/receipts/<name>", methods=["GET", "POST"])
@bp.route("/receipts/<name>/<token>", methods=["GET", "POST"])
@describe(
    "Receive delivery receipts of sent codes",
    description="Called by the outbound SMS provider, never by integrators: checked like the"
    " inbound webhooks (signature, or the sender's secret receipt token in the path).",
    tag="webhooks", ok=RECEIPT, errors=(400, 404, 503),
    responses={403: Content(("text/plain",), "the request is not provably from the provider")},
)  # fmt: skip
def receipts(name: str, token: str | None = None) -> Response:
    from app.web.webhooks import _webhook_request

    rt = runtime()
    incoming = _webhook_request(rt.settings.server.public_url, token)
    try:
        changed = usecase.record_receipts(rt.ctx, rt.fallback, name, incoming)
    except Rejected as exc:
        log.warning("receipt rejected sender=%s reason=%s", name, exc.reason)
        return Response("forbidden\n", 403, mimetype="text/plain")
    except Malformed as exc:
        return error(400, "malformed_webhook", str(exc))
    return Response(f"ok {changed}\n", 200, mimetype="text/plain")
