"""Run the app under gunicorn with defaults fit for this product."""

from __future__ import annotations

import functools
import os
import resource
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any, NoReturn

from flask import Flask
from gunicorn.app.base import BaseApplication

from app.config import load
from app.config.checks import ConfigError
from app.config.schema import Settings

# Run the command again with gevent's patches applied before any other import: the ssl module
# (imported by requests) must be patched before urllib3 copies its names, or outbound HTTPS
# from a worker would block the whole worker.
BOOT = (
    "from gevent import monkey; monkey.patch_all(); "
    "from app.cli import main; main(prog_name='reverse-otp')"
)


def patched() -> bool:
    """Return True when gevent's patches were applied at start-up."""
    from gevent import monkey

    return bool(monkey.is_module_patched("socket"))


def exec_patched(args: list[str]) -> NoReturn:
    """Replace this process by the same command run with gevent patched first."""
    os.execv(sys.executable, [sys.executable, "-c", BOOT, *args])  # noqa: S606 - our own argv


MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class Server(BaseApplication):  # type: ignore[misc]
    """gunicorn building one app per worker, so no connection or thread crosses a fork."""

    def __init__(self, factory: Callable[[], Flask], options: dict[str, Any]) -> None:
        self.factory = factory
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # as in a config file: older gunicorns lack some
                self.cfg.set(key, value)

    def load(self) -> Flask:
        from app.workers import jobs

        app = self.factory()
        jobs.start(app)  # here, in the worker: no thread or connection crosses the fork
        return app


def _stop_jobs(_server: Any, worker: Any) -> None:
    from app.workers import jobs

    app = getattr(worker, "wsgi", None)
    if isinstance(app, Flask):
        jobs.stop(app)


class PeerCount:
    """Open connections per client address, in one worker process."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open: Counter[str] = Counter()

    def enter(self, peer: str) -> bool:
        """Count a new connection from `peer`; False (not counted) when it is over the cap."""
        if self.open[peer] >= self.limit:
            return False
        self.open[peer] += 1
        return True

    def leave(self, peer: str) -> None:
        """Forget one connection from `peer`."""
        self.open[peer] -= 1
        if self.open[peer] <= 0:
            del self.open[peer]


BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    b"Retry-After: 5\r\nConnection: close\r\nContent-Length: 84\r\n\r\n"
    b'{"error": {"code": "too_many_connections", "message": "too many open connections"}}\n'
)


@functools.cache
def fair_worker() -> type:
    """Return gunicorn's gevent worker, letting the other connections in after each request.

    gevent switches greenlets only when one would block. On a keep-alive connection whose
    next request is already in the socket buffer, reading it does not block, so one
    connection could be served request after request while the ready requests of the others
    waited (measured at 32 connections on one worker: p99 4-6 s against a p50 of 20 ms).
    Yielding after each request serves the ready connections in turn.
    """
    import gevent
    from gunicorn.workers.ggevent import GeventWorker

    class FairGeventWorker(GeventWorker):  # type: ignore[misc]
        def handle_request(self, listener_name: Any, req: Any, sock: Any, addr: Any) -> None:
            super().handle_request(listener_name, req, sock, addr)
            gevent.sleep(0)  # to the back of the line: every ready connection runs first

    return FairGeventWorker


@functools.cache
def capped_worker(limit: int) -> type:
    """Return the fair gevent worker refusing a peer's connections beyond `limit` at once.

    Each gevent worker serves at most `worker_connections` connections; past that it stops
    accepting, so one address holding them all (slow bodies, idle sockets) would starve every
    other client and `/healthz`. The cap is on the TCP peer: behind a reverse proxy every
    connection comes from the proxy, so `peer_cap` turns it off there.
    """

    class CappedGeventWorker(fair_worker()):  # type: ignore[misc]
        def init_process(self) -> None:
            self.peers = PeerCount(limit)
            super().init_process()

        def handle(self, listener: Any, client: Any, addr: Any) -> None:
            peer = str(addr[0]) if isinstance(addr, tuple) and addr else "unix"
            if not self.peers.enter(peer):
                _refuse(client)
                return
            try:
                super().handle(listener, client, addr)
            finally:
                self.peers.leave(peer)

    return CappedGeventWorker


def _refuse(client: Any) -> None:
    """Answer 503 without waiting for the client, and close."""
    try:
        client.setblocking(False)
        client.send(BUSY)
    except OSError:
        pass  # the client's buffer is full or it is gone: closing is the answer
    finally:
        client.close()


def peer_cap(settings: Settings) -> int:
    """Return the per-address connection cap to apply (0: none).

    Behind trusted reverse proxies the TCP peer is a proxy, which carries many clients: the
    cap is not applied there (bound slow clients at the proxy, e.g. nginx limit_conn).
    """
    if settings.limits.trusted_proxies:
        return 0
    return settings.server.max_connections_per_peer


def options(
    host: str, port: int, workers: int, worker_connections: int = 10_000, max_per_peer: int = 0
) -> dict[str, Any]:
    """Return gunicorn settings. No access log: request paths carry status tokens.

    gevent workers: each holds thousands of idle live-status streams in a few KB apiece, where
    a thread per stream would cost far more memory and latency (see docs/deployment.md).
    `max_per_peer`: connections one client address may hold in one worker (0: no cap).
    """
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": capped_worker(max_per_peer) if max_per_peer else fair_worker(),
        "worker_connections": worker_connections,
        "timeout": 30,
        "graceful_timeout": 10,
        "keepalive": 5,
        # gunicorn's control socket (25.1+) sits at one path per user, which every instance on
        # the host would share, in a home folder a hardened service cannot write: not used.
        "control_socket_disable": True,
        "accesslog": None,
        "errorlog": "-",
        "logconfig_dict": log_config(os.environ.get("REVERSE_OTP_LOG_LEVEL", "INFO").upper()),
        "child_exit": _child_exit,
        "worker_exit": _stop_jobs,
    }


def conf_file() -> dict[str, Any]:
    """Return the settings gunicorn.conf.py gives a bare `gunicorn wsgi:app`: those of `serve`.

    The address is left to gunicorn (`--bind`, default 127.0.0.1:8000 like `serve`) and its
    command line overrides any of these (`-w 4`). Each worker starts the periodic jobs and
    callback delivery as `serve`'s workers do. Call it with gevent already patched.
    """
    try:
        settings = load()
    except ConfigError as exc:
        sys.exit(f"reverse-otp: {exc}")
    connections = settings.streams.worker_connections
    raise_open_files(2 * connections + 100)
    made = prepare_metrics_dir()  # before prometheus_client is imported

    def remove_metrics_dir(_server: Any) -> None:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)

    workers = default_workers(settings.database.url)
    found = options("127.0.0.1", 8000, workers, connections, peer_cap(settings))
    del found["bind"]
    return found | {"post_worker_init": _start_background, "on_exit": remove_metrics_dir}


def _start_background(worker: Any) -> None:
    from app.workers import jobs

    app = getattr(worker, "wsgi", None)
    if isinstance(app, Flask):
        jobs.start(app)


def default_workers(database_url: str) -> int:
    """Return the worker count to use when none is given.

    SQLite: one worker. Writes serialise anyway (a second writer process adds nothing), and
    with a single process no greenlet ever waits on SQLite's lock, whose busy wait is not
    cooperative and would stall every open stream of the worker. PostgreSQL: two.
    """
    return 1 if database_url.startswith("sqlite") else 2


def single_process_events(settings: Settings, workers: int) -> Settings:
    """Turn database polling off for one in-process worker, unless the settings name it.

    One process sees every change it makes; polling is for changes made by other processes
    (more workers, or more hosts: those set `[events] poll_interval` explicitly).
    """
    events = settings.events
    if workers != 1 or events.backend != "memory" or "poll_interval" in events.model_fields_set:
        return settings
    quiet = events.model_copy(update={"poll_interval": 0.0})
    return settings.model_copy(update={"events": quiet})


def raise_open_files(wanted: int) -> None:
    """Raise the soft open-files limit towards `wanted` (each stream is one socket)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def log_config(level: str) -> dict[str, Any]:
    """Every line as JSON on stderr; gunicorn's access log off (the app logs masked paths)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "root": {"level": level, "handlers": ["json"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
        },
        "handlers": {
            "json": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "formatters": {"json": {"()": "app.ops.logs.JsonFormatter"}},
    }


def _child_exit(_server: Any, worker: Any) -> None:
    from app.ops.metrics import worker_exited

    worker_exited(worker.pid)


def prepare_metrics_dir(environ: MutableMapping[str, str] = os.environ) -> Path | None:
    """Make PROMETHEUS_MULTIPROC_DIR an empty folder for this run, so workers share metrics.

    Call before anything imports prometheus_client. A folder given by the operator is kept
    but emptied of the previous run's value files; else a temporary one is made and returned,
    for the caller to remove when the server stops.
    """
    given = environ.get(MULTIPROC_ENV)
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()
        return None
    made = Path(tempfile.mkdtemp(prefix="reverse-otp-metrics-"))
    environ[MULTIPROC_ENV] = str(made)
    return made


def run(
    factory: Callable[[], Flask],
    host: str,
    port: int,
    workers: int,
    worker_connections: int = 10_000,
    max_per_peer: int = 0,
) -> None:
    """Serve until stopped; `factory` builds the app in each worker."""
    raise_open_files(2 * worker_connections + 100)
    Server(factory, options(host, port, workers, worker_connections, max_per_peer)).run()
