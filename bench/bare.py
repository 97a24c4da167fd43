"""The yardstick: a bare Flask app on exactly the gunicorn settings `reverse-otp serve` uses.

Run: python bench/bare.py PORT WORKERS
"""

from __future__ import annotations

import sys

from flask import Flask, Response

from app.cli.server import Server, options

WEBHOOK_REPLY = '{"outcomes": ["matched"]}'
CREATED_REPLY = '{"id": "ch_bare", "status": "pending"}'


def create_bare() -> Flask:
    app = Flask("bare")

    @app.post("/webhooks/simulator")
    def webhook() -> Response:
        return Response(WEBHOOK_REPLY, 200, content_type="application/json")

    @app.post("/api/v1/challenges")
    def create() -> Response:
        return Response(CREATED_REPLY, 201, content_type="application/json")

    return app


class BareServer(Server):
    def load(self) -> Flask:
        return self.factory()  # no jobs: the yardstick does nothing but answer


if __name__ == "__main__":
    BareServer(create_bare, options("127.0.0.1", int(sys.argv[1]), int(sys.argv[2]))).run()
