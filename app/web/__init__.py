"""HTTP: blueprints for the API, the provider webhooks and the pages."""

from flask import Flask


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
