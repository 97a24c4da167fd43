"""Operations: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, request

from app.crypto import same
from app.ops import health
from app.runtime import runtime
from app.web import throttle
from app.web.errors import error
from app.web.openapi import Content, describe
from app.web.views import HealthView, ReadinessView

bp = Blueprint("ops", __name__)

PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8"
METRICS_TEXT = Content(("text/plain",), "Prometheus text exposition format")


@bp.get("/healthz")
@describe("Liveness: the process answers", tag="operations", ok=HealthView)
def healthz() -> Response:
    response = jsonify({"status": "ok"})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/readyz")
@describe(
    "Readiness: the database and the other components work",
    description="503 when a component is down; a degraded component is listed but ready.",
    tag="operations",
    ok=ReadinessView,
    responses={503: ReadinessView},
)
def readyz() -> tuple[Response, int]:
    report = health.check(runtime().components)
    response = jsonify(report.as_json())
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if report.ready else 503


@bp.get("/metrics")
@describe(
    "Prometheus metrics",
    description="404 unless `[metrics] token` is set; the token is sent as a Bearer header."
    " Wrong tokens are throttled per client address (429).",
    tag="operations",
    ok=METRICS_TEXT,
    errors=(401, 404, 429, 503),
    auth="metrics",
)
def metrics() -> Response:
    rt = runtime()
    token = rt.settings.metrics.token
    exposition = getattr(rt.ctx.observer, "exposition", None)
    if not token or exposition is None:
        abort(404)
    presented = request.headers.get("Authorization", "")
    refused = throttle.refused("metrics") if presented else None
    if refused is not None:
        return refused
    scheme, _, given = presented.partition(" ")
    if scheme.lower() != "bearer" or not same(given.strip(), token):
        if presented:
            throttle.failed("metrics")
        response = error(401, "unauthorized", "the metrics token is required (Bearer token)")
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    response = Response(exposition(), content_type=PROMETHEUS_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response
