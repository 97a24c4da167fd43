"""One JSON error shape for every answer that is not a success."""

from __future__ import annotations

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from app.limits.rules import LimitsUnavailable
from app.store.base import StoreUnavailable
from app.usecases.context import ServiceError


def error(status: int, code: str, message: str) -> Response:
    """Return `{"error": {"code": ..., "message": ...}}` with an HTTP status."""
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


# By "is it the limit counters?": what is down, the error code, the message.
UNAVAILABLE = {
    True: ("limit counters", "limits_unavailable", "limits cannot be checked; try again shortly"),
    False: ("store", "store_unavailable", "storage is unavailable; try again shortly"),
}


def register(app: Flask) -> None:
    """Answer every HTTP error, refusal and store failure in the error shape; never a trace."""

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        code = (exc.name or "error").lower().replace(" ", "_")
        response = error(exc.code or 500, code, exc.description or code)
        for name in ("Allow", "Retry-After", "WWW-Authenticate"):
            if exc.get_response().headers.get(name):
                response.headers[name] = exc.get_response().headers[name]
        return response

    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError) -> Response:
        response = error(exc.status, exc.code, exc.message)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response

    @app.errorhandler(StoreUnavailable)
    def unavailable(exc: StoreUnavailable) -> Response:
        what, code, message = UNAVAILABLE[isinstance(exc, LimitsUnavailable)]
        app.logger.error("%s unavailable: %s", what, exc)
        response = error(503, code, message)
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        app.logger.exception("unhandled error")
        return error(500, "internal_error", "internal error")
