"""Per-request logging: a request id on every log line, and one access line per request.

The access line carries the method, the path with its token segments masked, the status and
the duration; never the query string, headers or body.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request

from app.ops import logs

log = logging.getLogger("app.access")


def register(app: Flask) -> None:
    """Bind a request id around each request, echo it back, and log the request once."""

    @app.before_request
    def bind() -> None:
        request_id = logs.accept_request_id(request.headers.get(logs.REQUEST_ID_HEADER))
        g.request_id = request_id
        g.request_started = time.perf_counter()
        g.request_id_token = logs.bind_request_id(request_id)

    @app.after_request
    def access(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id:
            response.headers[logs.REQUEST_ID_HEADER] = request_id
        if request_id and log.isEnabledFor(logging.INFO):  # the line's fields cost CPU too
            elapsed = time.perf_counter() - g.get("request_started", time.perf_counter())
            log.info(
                "request",
                extra={
                    "method": request.method,
                    "path": logs.mask_path(request.path),
                    "status": response.status_code,
                    "duration_ms": round(elapsed * 1000, 1),
                },
            )
        return response

    @app.teardown_request
    def unbind(_exc: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            logs.unbind_request_id(token)
