"""Security headers on every answer, and the API's explicit CORS policy; one after_request hook.

Pages get a strict Content-Security-Policy: scripts, styles and connections from this origin
only (no inline script), no framing. Every answer says `Referrer-Policy: no-referrer`, so a
status token in a page URL never leaks to another site through the Referer header.
Cross-origin API calls are allowed only from `[api] cors_origins` (default: none).
"""

from __future__ import annotations

from flask import Flask, Response, request

PAGE_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# JSON, images and plain text run nothing, and nothing may frame them.
OTHER_POLICY = "default-src 'none'; frame-ancestors 'none'"
CORS_METHODS = "GET, POST, OPTIONS"
CORS_HEADERS = "Authorization, Content-Type"


def register(app: Flask) -> None:
    """Add the headers hook; the CORS origins and HTTPS come from the settings."""
    from app.runtime import EXTENSION

    settings = app.extensions[EXTENSION].settings
    origins = frozenset(settings.api.cors_origins)
    https = settings.server.public_url.startswith("https://")

    @app.after_request
    def secure(response: Response) -> Response:
        headers = response.headers
        headers["Referrer-Policy"] = "no-referrer"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        page = response.mimetype == "text/html"
        headers["Content-Security-Policy"] = PAGE_POLICY if page else OTHER_POLICY
        if https:
            headers["Strict-Transport-Security"] = "max-age=31536000"
        if request.path.startswith("/api/"):
            _cors(response, origins)
        return response


def _cors(response: Response, origins: frozenset[str]) -> None:
    """Allow a listed browser origin (or any, with "*"); API keys are Bearer, never cookies."""
    response.headers.add("Vary", "Origin")
    origin = request.headers.get("Origin")
    if not origin or not (origin in origins or "*" in origins):
        return
    response.headers["Access-Control-Allow-Origin"] = "*" if "*" in origins else origin
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
        response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"
