"""The yardsticks: a bare Flask app on exactly the gunicorn settings `reverse-otp serve` uses,
and the ceiling: the same app making one durable PostgreSQL round trip per request.

Run: python bench/bare.py PORT WORKERS [POSTGRESQL_URL]

With a URL, both routes run `INSERT ... RETURNING` in autocommit (one round trip, committed
and flushed before the answer) on psycopg directly, one connection per concurrent request,
kept for reuse. That is the most a request that writes once can do on this stack.
"""

from __future__ import annotations

import sys

from flask import Flask, Response

from app.cli.server import Server, options

WEBHOOK_REPLY = '{"outcomes": ["matched"]}'
CREATED_REPLY = '{"id": "ch_bare", "status": "pending"}'
CEILING_TABLE = (
    "CREATE TABLE IF NOT EXISTS bench_ceiling"
    " (id bigserial PRIMARY KEY, body text NOT NULL, at timestamptz NOT NULL DEFAULT now())"
)


class Ceiling:
    """One durable round trip per call; idle connections are kept (a list is enough under
    gevent: nothing yields between a pop and its use)."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.connect = psycopg.connect
        self.dsn = url.replace("postgresql+psycopg://", "postgresql://")
        self.idle: list[object] = []
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(CEILING_TABLE)

    def write(self) -> int:
        conn = self.idle.pop() if self.idle else self.connect(self.dsn, autocommit=True)
        try:
            row = conn.execute(  # type: ignore[attr-defined]
                "INSERT INTO bench_ceiling (body) VALUES (%s) RETURNING id", ("x",)
            ).fetchone()
        except Exception:
            conn.close()  # type: ignore[attr-defined]
            raise
        self.idle.append(conn)
        return int(row[0])


def create_bare(ceiling_url: str | None = None) -> Flask:
    app = Flask("bare")
    ceiling = Ceiling(ceiling_url) if ceiling_url else None

    @app.post("/webhooks/simulator")
    def webhook() -> Response:
        if ceiling is not None:
            ceiling.write()
        return Response(WEBHOOK_REPLY, 200, content_type="application/json")

    @app.post("/api/v1/challenges")
    def create() -> Response:
        if ceiling is not None:
            ceiling.write()
        return Response(CREATED_REPLY, 201, content_type="application/json")

    return app


class BareServer(Server):
    def load(self) -> Flask:
        return self.factory()  # no jobs: the yardstick does nothing but answer


if __name__ == "__main__":
    url = sys.argv[3] if len(sys.argv) > 3 else None
    BareServer(
        lambda: create_bare(url), options("127.0.0.1", int(sys.argv[1]), int(sys.argv[2]))
    ).run()
