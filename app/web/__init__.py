"""HTTP: blueprints for the API, the provider webhooks and the pages."""

from typing import Any

from flask import Flask
from flask.sessions import SessionInterface, SessionMixin


class NoSessions(SessionInterface):
    """Flask's cookie session is unused (the admin signs its own cookie, app/web/admin.py):
    no signing serializer is built for every request, and a write to it fails loudly."""

    def open_session(self, app: Flask, request: Any) -> SessionMixin:
        return self.make_null_session(app)

    def save_session(self, app: Flask, session: SessionMixin, response: Any) -> None:
        return None


def register(app: Flask) -> None:
    """Register the error handlers, response headers, request log and every blueprint."""
    from app.web import (
        admin,
        api,
        docs,
        errors,
        fallback,
        headers,
        live,
        ops,
        requestlog,
        webhooks,
        wellknown,
    )

    app.session_interface = NoSessions()
    errors.register(app)
    headers.register(app)
    requestlog.register(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(webhooks.bp)
    live.register(app)
    app.register_blueprint(ops.bp)
    app.register_blueprint(docs.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(wellknown.bp)
    app.register_blueprint(fallback.bp)
