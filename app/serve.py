"""Run the app under gunicorn with defaults fit for this product."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication


class Server(BaseApplication):  # type: ignore[misc]
    """gunicorn building one app per worker, so no connection or thread crosses a fork."""

    def __init__(self, factory: Callable[[], Flask], options: dict[str, Any]) -> None:
        self.factory = factory
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.factory()


def options(host: str, port: int, workers: int) -> dict[str, Any]:
    """Return gunicorn settings. No access log: request paths carry status tokens."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": 8,
        "timeout": 30,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": None,
        "errorlog": "-",
    }


def run(factory: Callable[[], Flask], host: str, port: int, workers: int) -> None:
    """Serve until stopped; `factory` builds the app in each worker."""
    Server(factory, options(host, port, workers)).run()
