"""Tail latency of the write paths: p50/p99 of webhooks and creations at 32 connections.

    python bench/tail.py                         # SQLite, 3 rounds of 10 s each
    python bench/tail.py --engines sqlite,postgresql --rounds 5 --duration 8

Runs only the product server (`reverse-otp serve` defaults: one gevent worker on SQLite, two on
PostgreSQL) with wrk, keep-alive, each round a creation run then a webhook run (each webhook
verifying a seeded pending challenge), and prints p50, p99 and the load average for every run:
on a shared machine a tail figure means something only next to its load. `bench/run.py` gives
the throughput ratios; this gives the tails quickly, to compare two versions run back to back.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import run, seed  # noqa: E402
from tests.e2e.server import free_port  # noqa: E402


def tails(engine_name: str, opts: run.Options, rounds: int, workdir: Path) -> dict[str, Any]:
    url = run.fresh_database(engine_name, opts.pg_url, workdir)
    run.migrate(url)
    targets = rounds * opts.duration * run.MAX_RATE
    seed.seed(url, run.SECRET, run.NUMBER, 0, targets)
    hooks = run.Webhooks(
        seed.bodies(workdir / "hooks.txt", run.SIM_SECRET, run.NUMBER, range(targets), targets, "t")
    )
    port = free_port()
    out: dict[str, Any] = {"engine": run.server_version(url), "create": [], "webhook": []}
    with run.product(url, workdir, port):
        run.wrk(port, "create.lua", [run.API_KEY], 2, opts.connections)  # warm-up
        for _ in range(rounds):
            for kind in ("create", "webhook"):
                # The last run's connections close with requests in flight, which the server
                # still answers in turn; opened at once, the new ones could meet the
                # per-address connection cap.
                time.sleep(2)
                load = os.getloadavg()
                if kind == "create":
                    got = run.wrk(
                        port, "create.lua", [run.API_KEY], opts.duration, opts.connections
                    )
                else:
                    got = hooks.send(port, opts.duration, opts.connections)
                row = {
                    "rps": got.rps,
                    "p50_ms": got.p50_ms,
                    "p99_ms": got.p99_ms,
                    "failures": got.errors + got.bad_status + got.wrapped,
                    "load": load,
                }
                out[kind].append(row)
                print(
                    f"  {engine_name} {kind}: {got.rps:.0f} req/s, p50 {got.p50_ms:.1f} ms,"
                    f" p99 {got.p99_ms:.1f} ms, failures {row['failures']},"
                    f" load {' / '.join(f'{x:.2f}' for x in load)}",
                    flush=True,
                )
    for kind in ("create", "webhook"):
        out[f"{kind}_p99_median"] = statistics.median(r["p99_ms"] for r in out[kind])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engines", default="sqlite")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the files (logs) here")
    args = parser.parse_args()
    opts = run.Options(
        reps=args.rounds,
        duration=args.duration,
        scale_duration=0,
        connections=args.connections,
        engines=args.engines.split(","),
        sizes=[],
        pg_url=os.environ.get("REVERSE_OTP_BENCH_DATABASE_URL", run.DEFAULT_PG),
        out=Path(os.devnull),
    )
    results: dict[str, Any] = {"load_before": os.getloadavg()}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="reverse-otp-tail-") as tmp:
        if args.workdir is not None:
            tmp = str(args.workdir)
        for engine_name in opts.engines:
            workdir = Path(tmp) / engine_name
            workdir.mkdir()
            results[engine_name] = tails(engine_name, opts, args.rounds, workdir)
            print(
                f"{engine_name}: create p99 median {results[engine_name]['create_p99_median']:.1f}"
                f" ms, webhook p99 median {results[engine_name]['webhook_p99_median']:.1f} ms",
                flush=True,
            )
    results["load_after"] = os.getloadavg()
    results["seconds"] = time.monotonic() - started
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
