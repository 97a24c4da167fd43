"""Hold N concurrent SSE streams on one reverse-otp server; measure event latency and memory.

Loopback only, bounded in count and time. It starts `reverse-otp serve` (gevent, one worker
by default) on a free port with a temporary SQLite database (or --database-url), creates N
discovery challenges, opens one SSE stream per challenge, then verifies --samples of them
one after another through the signed simulator webhook, and records for each the time from
the webhook's answer (and from its request) to the `verified` event on the open stream.
Memory per stream is the worker's resident-memory growth from before the streams were opened
to when all of them had received their first event, divided by N.

    .venv/bin/python bench/sse.py --streams 500             # smoke run
    .venv/bin/python bench/sse.py --streams 10000 --write   # full run, writes docs/benchmarks.md
    .venv/bin/python bench/sse.py --events redis --redis-url redis://127.0.0.1:6379/1
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import secrets  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import gevent.event  # noqa: E402
import requests  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.providers.simulator import HEADER, sign  # noqa: E402
from tests.e2e.live import server_pids  # noqa: E402
from tests.e2e.server import free_port, running_server, write_config  # noqa: E402

NUMBER = "+15017122661"
SIM_SECRET = secrets.token_hex(16)
API_KEY = "bench-" + secrets.token_hex(16)
SECTION = "## Live status (SSE)"


class Stream:
    """One raw SSE connection, read by its own greenlet."""

    def __init__(self, host: str, port: int, token: str) -> None:
        self.token = token
        self.first = gevent.event.Event()
        self.verified_at: float | None = None
        self.verified = gevent.event.Event()
        self.sock = socket.create_connection((host, port), timeout=None)
        path = f"/api/v1/status/{token}/events"
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        self.reader = gevent.spawn(self._read)

    def _read(self) -> None:
        buffer = b""
        try:
            while True:
                data = self.sock.recv(4096)
                if not data:
                    return
                buffer += data
                if b"event: pending" in buffer:
                    self.first.set()
                if b"event: verified" in buffer:
                    self.verified_at = time.perf_counter()
                    self.verified.set()
                    return
                buffer = buffer[-256:]
        except OSError:
            return

    def close(self) -> None:
        self.reader.kill(block=False)
        self.sock.close()


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_pids(port: int) -> list[int]:
    pids = server_pids(port)
    parents = {pid: int(Path(f"/proc/{pid}/stat").read_text().split()[3]) for pid in pids}
    return [pid for pid, parent in parents.items() if parent in pids]


def config(tmp: Path, port: int, args: argparse.Namespace) -> Path:
    database = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    events: dict[str, object] = {"backend": args.events}
    if args.events == "redis":
        events |= {"redis_url": args.redis_url, "redis_channel": f"bench:{secrets.token_hex(6)}"}
    settings = {
        "server": {
            "mode": "production",
            "public_url": f"http://127.0.0.1:{port}",
            "secret_key": secrets.token_urlsafe(48),
            "unsafe_allow_simulator": True,  # the bench plays the provider
        },
        "limits": {"max_pending": args.streams + 1000},
        "database": {"url": database},
        "api": {"keys": [API_KEY]},
        "codes": {"length": 8},
        "events": events,
        "streams": {
            "max_per_ip": 0,
            "max_per_token": 0,
            "worker_connections": args.streams + 1000,
        },
        "numbers": [{"number": NUMBER, "provider": "simulator"}],
        "providers": {"simulator": {"secret": SIM_SECRET}},
    }
    return write_config(tmp / "config.toml", settings)


def create_challenges(config_path: Path, count: int, deadline: float) -> list[dict[str, str]]:
    """Create the challenges in this process, straight through the services (not timed)."""
    from app import create_app
    from app.config import load
    from app.runtime import EXTENSION
    from app.usecases import challenges, texts

    settings = load(environ={"REVERSE_OTP_CONFIG": str(config_path)})
    app = create_app(settings)
    ctx = app.extensions[EXTENSION].ctx
    created = []
    for _ in range(count):
        if time.monotonic() > deadline:
            raise SystemExit("time bound reached while creating challenges")
        made = challenges.create_challenge(ctx, None, None, {"bench": True})
        created.append({"token": made.token, "body": texts.sms_text(ctx, made.code)})
    ctx.store.dispose()
    return created


def open_streams(port: int, created: list[dict[str, str]], deadline: float) -> list[Stream]:
    streams = []
    for index, challenge in enumerate(created):
        streams.append(Stream("127.0.0.1", port, challenge["token"]))
        if index % 200 == 199:
            gevent.sleep(0)  # let the server accept as we go
    for stream in streams:
        if not stream.first.wait(timeout=max(0.1, deadline - time.monotonic())):
            raise SystemExit("time bound reached while opening streams")
    return streams


def sample_latency(
    base: str, streams: list[Stream], samples: int, deadline: float
) -> dict[str, list[float]]:
    session = requests.Session()
    by_token = {s.token: s for s in streams}
    chosen = list(by_token.values())[:: max(1, len(streams) // samples)][:samples]
    from_answer, from_request = [], []
    bodies = {c.token: c for c in chosen}
    for stream in bodies.values():
        if time.monotonic() > deadline:
            break
        text = stream.body  # type: ignore[attr-defined]
        body = json.dumps(
            {"from": "+33612345678", "to": NUMBER, "text": text, "id": secrets.token_hex(8)}
        )
        headers = {"Content-Type": "application/json", HEADER: sign(SIM_SECRET, body.encode())}
        sent = time.perf_counter()
        answer = session.post(base + "/webhooks/simulator", data=body, headers=headers, timeout=10)
        answered = time.perf_counter()
        if "matched" not in answer.text:
            raise SystemExit(f"webhook did not match: {answer.status_code} {answer.text}")
        if not stream.verified.wait(timeout=5):
            raise SystemExit("a verified event did not arrive within 5 s")
        assert stream.verified_at is not None
        from_answer.append((stream.verified_at - answered) * 1000)
        from_request.append((stream.verified_at - sent) * 1000)
    return {"answer": from_answer, "request": from_request}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(args: argparse.Namespace) -> dict[str, object]:
    started = time.monotonic()
    load = round(os.getloadavg()[0], 1)  # the machine is shared: say how busy it was
    deadline = started + args.time_limit
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, args.streams * 2 + 1000)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        port = free_port()
        config_path = config(tmp, port, args)
        made = time.monotonic()
        created = create_challenges(config_path, args.streams, deadline)
        create_seconds = time.monotonic() - made
        with running_server(tmp, config=config_path, port=port, workers=args.workers) as base:
            workers = worker_pids(port)
            before = sum(rss_kb(pid) for pid in workers)
            cpu_before = sum(cpu_seconds(pid) for pid in workers)
            opened = time.monotonic()
            streams = open_streams(port, created, deadline)
            open_seconds = time.monotonic() - opened
            cpu_open = sum(cpu_seconds(pid) for pid in workers) - cpu_before
            gevent.sleep(1)
            after = sum(rss_kb(pid) for pid in workers)
            for stream, challenge in zip(streams, created, strict=True):
                stream.body = challenge["body"]  # type: ignore[attr-defined]
            latency = sample_latency(base, streams, args.samples, deadline)
            for stream in streams:
                stream.close()
    return {
        "streams": args.streams,
        "workers": args.workers,
        "events": args.events,
        "database": "PostgreSQL" if args.database_url else "SQLite",
        "create_seconds": round(create_seconds, 1),
        "open_seconds": round(open_seconds, 1),
        "server_cpu_ms_per_open": round(cpu_open * 1000 / args.streams, 2),
        "rss_before_mb": round(before / 1024, 1),
        "rss_after_mb": round(after / 1024, 1),
        "kb_per_stream": round((after - before) / args.streams, 1),
        "samples": len(latency["answer"]),
        "p50_answer_ms": round(statistics.median(latency["answer"]), 2),
        "p99_answer_ms": round(percentile(latency["answer"], 0.99), 2),
        "p50_request_ms": round(statistics.median(latency["request"]), 2),
        "p99_request_ms": round(percentile(latency["request"], 0.99), 2),
        "seconds": round(time.monotonic() - started, 1),
        "load_average": load,
    }


def write(result: dict[str, object], path: Path) -> None:
    row = (
        f"| {result['streams']} | {result['workers']} | {result['events']} | {result['database']} "
        f"| {result['kb_per_stream']} | {result['rss_after_mb']} | {result['p50_answer_ms']} "
        f"| {result['p99_answer_ms']} | {result['p50_request_ms']} | {result['p99_request_ms']} "
        f"| {result['samples']} | {result['server_cpu_ms_per_open']} | {result['load_average']} "
        f"| {time.strftime('%Y-%m-%d')} |"
    )
    header = [
        SECTION,
        "",
        "`bench/sse.py` (loopback, this 2-core machine): N streams held on one server, one",
        "challenge each; latency is measured on sequential verifications from the webhook's answer",
        "(and from its request) to the `verified` event on the open stream. A negative figure",
        "means the event arrived before the webhook's answer (it is published right after commit).",
        "The request figure includes the webhook's own processing. KB/stream is the worker's",
        "resident-memory growth per open stream; CPU/open the server CPU spent opening one;",
        "load is the machine's 1-minute load average when the run started (2 cores, shared).",
        "",
        "Run: `.venv/bin/python bench/sse.py --streams 10000 --write` (add `--events redis`,",
        "`--database-url postgresql+psycopg://...`, `--workers 2` for the other set-ups).",
        "",
        "| streams | workers | bus | database | KB/stream | worker RSS MB | p50 ms (answer) "
        "| p99 ms (answer) | p50 ms (request) | p99 ms (request) | samples | CPU ms/open "
        "| load | date |",
        "|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if SECTION in text:
        start = text.index(SECTION)
        rest = text[start + len(SECTION) :]
        end = rest.find("\n## ")
        section = rest if end < 0 else rest[:end]
        rows = [
            line for line in section.splitlines() if line.startswith("| ") and line[2].isdigit()
        ]
        after = "" if end < 0 else rest[end:]
        text = text[:start] + "\n".join([*header, *rows, row]) + "\n" + after
    else:
        text = text.rstrip("\n") + "\n\n" + "\n".join([*header, row]) + "\n"
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--streams", type=int, default=500, help="concurrent SSE streams (max 20000)"
    )
    parser.add_argument("--samples", type=int, default=200, help="verifications timed")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--events", choices=["memory", "redis"], default="memory")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("REVERSE_OTP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
    )
    parser.add_argument("--database-url", default="", help="default: a temporary SQLite file")
    parser.add_argument("--time-limit", type=float, default=170.0, help="seconds before giving up")
    parser.add_argument(
        "--write", action="store_true", help="record the figures in docs/benchmarks.md"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)  # before the app's own set-up: no line per challenge
    if not 1 <= args.streams <= 20_000:
        parser.error("--streams must be between 1 and 20000")
    result = run(args)
    print(json.dumps(result, indent=2))
    if args.write:
        write(result, ROOT / "docs" / "benchmarks.md")


if __name__ == "__main__":
    main()
