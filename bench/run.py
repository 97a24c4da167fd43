"""Run every benchmark and write the figures to docs/benchmarks.md.

    python bench/run.py            # the full run (about 10-12 minutes)
    python bench/run.py --quick    # a smoke run: one short repetition of everything
    python bench/run.py --only throughput,roundtrip   # some parts; the others keep their figures

Bounded and on loopback only: servers bind 127.0.0.1, wrk runs for fixed durations. Needs wrk
(`apt-get install -y wrk`) and, for the PostgreSQL half, a server that the URL in
REVERSE_OTP_BENCH_DATABASE_URL reaches (default: database reverse_otp_bench on 127.0.0.1,
which the run drops and creates again). Each product figure is measured side by side with a
bare Flask endpoint on the same gunicorn settings, and reported as a ratio: absolute figures
move 10-35% between runs on a shared machine, ratios much less.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.cli.server import default_workers  # noqa: E402
from app.store.tables import challenges  # noqa: E402
from bench import report, roundtrip, seed  # noqa: E402
from tests.e2e.server import free_port, launched, server_environ, write_config  # noqa: E402

SECRET = "bench-secret-key-that-is-long-enough-0123456789"
SIM_SECRET = "bench-simulator-secret"
API_KEY = "bench-api-key-0123456789abcdef0123456789"
NUMBER = "+15017122661"
MAX_RATE = 4000  # req/s we never expect to exceed: sizes the pre-signed bodies
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/reverse_otp_bench"


@dataclass
class Run:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    bad_status: int
    wrapped: int
    sent_max_thread: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


@dataclass
class Options:
    reps: int
    duration: int
    scale_duration: int
    connections: int
    engines: list[str]
    sizes: list[int]
    pg_url: str
    out: Path


# -- servers ---------------------------------------------------------------------------------


@contextmanager
def server(command: list[str], env: dict[str, str], cwd: Path, port: int) -> Iterator[int]:
    """Run a server command until the block ends; yield its master pid."""
    log = cwd / f"server-{port}.log"
    with launched(
        command, cwd=cwd, env=env, port=port, log=log, ready_path="/", timeout=60, stop_timeout=20
    ) as process:
        yield process.pid


def product(url: str, workdir: Path, port: int) -> Any:
    settings = {
        "server": {
            "mode": "production",
            "secret_key": SECRET,
            "public_url": "http://127.0.0.1",
            "unsafe_allow_simulator": True,  # the bench's stand-in provider
        },
        # Limits on, with budgets the load cannot exhaust: their cost is measured, not
        # their refusals (one API key and one address send everything).
        "limits": {
            "per_api_key": "1000000000/hour",
            "per_ip": "1000000000/hour",
            "sender_failures": "1000000000/hour",
            "max_pending": 1_000_000,
        },
        "database": {"url": url},
        "api": {"keys": [API_KEY]},
        "numbers": [{"number": NUMBER, "provider": "simulator"}],
        "providers": {"simulator": {"secret": SIM_SECRET}},
    }
    config = write_config(workdir / "bench.toml", settings)
    # Per-request INFO lines would cost disk, not CPU.
    env = server_environ(config, REVERSE_OTP_LOG_LEVEL="WARNING")
    exe = Path(sys.executable).with_name("reverse-otp")
    cmd = [str(exe), "serve", "--port", str(port), "--workers", str(default_workers(url))]
    return server(cmd, env, workdir, port)


def bare(workdir: Path, port: int, workers: int, ceiling_url: str | None = None) -> Any:
    """The bare Flask app; with a URL, the ceiling (one durable round trip per request)."""
    env = dict(os.environ) | {"PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, str(ROOT / "bench" / "bare.py"), str(port), str(workers)]
    return server(cmd + ([ceiling_url] if ceiling_url else []), env, workdir, port)


def ceiling_database(opts: Options) -> str:
    """Return the ceiling's PostgreSQL database (next to the bench database), made if absent."""
    url = make_url(opts.pg_url)
    name = f"{url.database}_ceiling"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if found.first() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def workers_of(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class PeakRss:
    """Sample the largest worker RSS while a block runs."""

    def __init__(self, master: int) -> None:
        self.master = master
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            for pid in workers_of(self.master):
                self.peak = max(self.peak, rss_mb(pid))


# -- load ------------------------------------------------------------------------------------


def wrk(port: int, script: str, args: list[str], seconds: int, connections: int) -> Run:
    command = [
        "wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
        "-s", str(ROOT / "bench" / script), f"http://127.0.0.1:{port}", "--", *args,
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(x for x in output.splitlines() if x.startswith("RESULT "))
    return Run(**json.loads(line[len("RESULT ") :]))


class Webhooks:
    """A file of pre-signed bodies and the next unused line in it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def send(self, port: int, seconds: int, connections: int) -> Run:
        run = wrk(
            port, "webhook.lua", [str(self.path), str(self.offset), "2"], seconds, connections
        )
        self.offset += 2 * run.sent_max_thread
        return run


def median(runs: list[Run], field: str) -> float:
    return statistics.median(getattr(r, field) if field != "rps" else r.rps for r in runs)


# -- databases -------------------------------------------------------------------------------


def fresh_database(engine_name: str, pg_url: str, workdir: Path) -> str:
    if engine_name == "sqlite":
        for old in workdir.glob("bench.db*"):
            old.unlink()
        return f"sqlite:///{workdir / 'bench.db'}"
    url = make_url(pg_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    return pg_url


def migrate(url: str) -> None:
    from app.store import migrate as migrations

    engine = create_engine(url)
    migrations.upgrade(engine)
    engine.dispose()


def clear_challenges(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(challenges.delete())
    engine.dispose()


def analyze_and_count(url: str, status: str) -> int:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
        query = select(func.count()).select_from(challenges).where(challenges.c.status == status)
        found = int(conn.execute(query).scalar_one())
    engine.dispose()
    return found


def server_version(url: str) -> str:
    engine = create_engine(url)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            found = "SQLite " + str(conn.exec_driver_sql("select sqlite_version()").scalar())
        else:
            found = str(conn.exec_driver_sql("show server_version").scalar())
            found = "PostgreSQL " + found.split()[0]
    engine.dispose()
    return found


# -- benchmarks ------------------------------------------------------------------------------


def throughput(engine_name: str, opts: Options, workdir: Path) -> dict[str, Any]:
    """Webhook (verify path) and creation, each side by side with the bare endpoint."""
    url = fresh_database(engine_name, opts.pg_url, workdir)
    migrate(url)
    targets = opts.reps * opts.duration * MAX_RATE
    hooks = Webhooks(
        seed.bodies(workdir / "hooks.txt", SIM_SECRET, NUMBER, range(targets), targets, "tp")
    )
    unmatched = range(targets, targets + 1)  # a code no challenge holds
    warm = Webhooks(seed.bodies(workdir / "warm.txt", SIM_SECRET, NUMBER, unmatched, 1, "warm"))
    kinds = ("bare_hook", "ceiling_hook", "hook", "bare_create", "ceiling_create", "create")
    runs: dict[str, list[Run]] = {k: [] for k in kinds}
    loads: list[dict[str, Any]] = []
    p_port, b_port, c_port = free_port(), free_port(), free_port()
    workers = default_workers(url)
    ceiling = ceiling_database(opts)
    with (
        product(url, workdir, p_port) as master,
        bare(workdir, b_port, workers),
        bare(workdir, c_port, workers, ceiling),
    ):
        time.sleep(1)
        rest = max(rss_mb(pid) for pid in workers_of(master))
        for port in (p_port, b_port, c_port):  # warm all up; unmatched bodies, results discarded
            warm.send(port, 2, opts.connections)
            wrk(port, "create.lua", [API_KEY], 2, opts.connections)
        with PeakRss(master) as peak:
            # Creation first, on a table holding only what it creates; then the webhooks,
            # each answering a pending challenge seeded for it. Each round runs bare, ceiling
            # and product one after the other, so the three share the machine's load.
            for round_ in range(opts.reps):
                loads.append({"round": round_ + 1, "what": "create", "load": os.getloadavg()})
                for kind, port in (("bare_create", b_port), ("ceiling_create", c_port)):
                    runs[kind].append(
                        wrk(port, "create.lua", [API_KEY], opts.duration, opts.connections)
                    )
                runs["create"].append(
                    wrk(p_port, "create.lua", [API_KEY], opts.duration, opts.connections)
                )
            clear_challenges(url)  # their random codes could clash with the seeded ones
            seed.seed(url, SECRET, NUMBER, 0, targets)
            for round_ in range(opts.reps):
                loads.append({"round": round_ + 1, "what": "webhook", "load": os.getloadavg()})
                runs["bare_hook"].append(warm.send(b_port, opts.duration, opts.connections))
                runs["ceiling_hook"].append(warm.send(c_port, opts.duration, opts.connections))
                runs["hook"].append(hooks.send(p_port, opts.duration, opts.connections))
        loaded = max(rss_mb(pid) for pid in workers_of(master))
    verified = analyze_and_count(url, "verified")
    # Each run ends with up to one request per connection in flight: the server completes it,
    # wrk does not count it.
    sent = sum(r.requests for r in runs["hook"]) + opts.reps * opts.connections
    return {
        "engine": server_version(url),
        "workers": workers,
        "runs": {k: [asdict(r) | {"rps": r.rps} for r in v] for k, v in runs.items()},
        "webhook_rps": median(runs["hook"], "rps"),
        "bare_webhook_rps": median(runs["bare_hook"], "rps"),
        "webhook_p50": median(runs["hook"], "p50_ms"),
        "webhook_p99": median(runs["hook"], "p99_ms"),
        "bare_webhook_p50": median(runs["bare_hook"], "p50_ms"),
        "bare_webhook_p99": median(runs["bare_hook"], "p99_ms"),
        "create_rps": median(runs["create"], "rps"),
        "bare_create_rps": median(runs["bare_create"], "rps"),
        "ceiling_webhook_rps": median(runs["ceiling_hook"], "rps"),
        "ceiling_create_rps": median(runs["ceiling_create"], "rps"),
        "ceiling_webhook_p99": median(runs["ceiling_hook"], "p99_ms"),
        "rounds": _rounds(runs, loads),
        "create_p50": median(runs["create"], "p50_ms"),
        "create_p99": median(runs["create"], "p99_ms"),
        "verified": verified,
        "webhooks_sent": sum(r.requests for r in runs["hook"]),
        "verified_ok": verified <= sent and verified >= sent - 4 * opts.connections,
        "failures": sum(r.errors + r.bad_status for rs in runs.values() for r in rs)
        + sum(r.wrapped for r in runs["hook"]),
        "rss_rest_mb": rest,
        "rss_peak_mb": max(peak.peak, loaded),
    }


def _rounds(runs: dict[str, list[Run]], loads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each round's ratios (product over bare, product over ceiling) and the load average."""
    out = []
    for entry in loads:
        i, what = entry["round"] - 1, entry["what"]
        key = "hook" if what == "webhook" else "create"
        product_rps = runs[key][i].rps
        out.append(
            entry
            | {
                "product_rps": product_rps,
                "p99_ms": runs[key][i].p99_ms,
                "vs_bare": product_rps / runs[f"bare_{key}"][i].rps,
                "vs_ceiling": product_rps / runs[f"ceiling_{key}"][i].rps,
                "ceiling_vs_bare": runs[f"ceiling_{key}"][i].rps / runs[f"bare_{key}"][i].rps,
            }
        )
    for row in out:
        print(
            f"  round {row['round']} {row['what']}: {row['product_rps']:.0f} req/s,"
            f" {row['vs_bare']:.3f} of bare, {row['vs_ceiling']:.3f} of the ceiling"
            f" (ceiling {row['ceiling_vs_bare']:.3f} of bare), p99 {row['p99_ms']:.1f} ms,"
            f" load {' / '.join(f'{x:.2f}' for x in row['load'])}",
            flush=True,
        )
    return out


def scale(engine_name: str, opts: Options, workdir: Path) -> dict[str, Any]:
    """Webhook cost with N pending challenges: each webhook hits one of them at random."""
    url = fresh_database(engine_name, opts.pg_url, workdir)
    migrate(url)
    out: dict[str, Any] = {"engine": server_version(url), "sizes": {}}
    seeded = 0
    count = opts.reps * opts.scale_duration * MAX_RATE
    port = free_port()
    for size in opts.sizes:
        started = time.monotonic()
        seed.seed(url, SECRET, NUMBER, seeded, size - seeded, background=True)
        seeded = size
        pending = analyze_and_count(url, "pending")
        seed_seconds = time.monotonic() - started
        hooks = Webhooks(
            seed.bodies(workdir / "scale.txt", SIM_SECRET, NUMBER, range(size), count, f"s{size}")
        )
        with product(url, workdir, port):
            hooks.send(port, 2, opts.connections)  # warm-up
            runs = [
                hooks.send(port, opts.scale_duration, opts.connections) for _ in range(opts.reps)
            ]
        out["sizes"][str(size)] = {
            "pending": pending,
            "seed_seconds": seed_seconds,
            "rps": median(runs, "rps"),
            "p50_ms": median(runs, "p50_ms"),
            "p99_ms": median(runs, "p99_ms"),
            "failures": sum(r.errors + r.bad_status + r.wrapped for r in runs),
            "runs": [asdict(r) | {"rps": r.rps} for r in runs],
        }
    return out


def machine() -> dict[str, Any]:
    cpu = next(
        (x.split(":", 1)[1].strip() for x in Path("/proc/cpuinfo").read_text().splitlines()
         if x.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()[1]
    packages = ["flask", "gunicorn", "sqlalchemy", "psycopg", "alembic"]
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "load_before": os.getloadavg(),
        "python": platform.python_version(),
        "versions": {p: version(p) for p in packages} | {"wrk": wrk_version},
    }


def kept(path: Path, results: dict[str, Any], parts: set[str]) -> dict[str, Any]:
    """The results to write: a partial run's parts over the figures the file holds of the
    others (each part keeps the machine and options of the run that measured it)."""
    if parts == {"throughput", "roundtrip", "scale"} or not path.exists():
        return results
    merged: dict[str, Any] = json.loads(path.read_text())
    for part in parts:
        merged[part] = results.get(part, {})
        merged[f"{part}_run"] = {k: results[k] for k in ("machine", "options", "minutes")}
    return merged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one short repetition (smoke)")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per throughput run")
    parser.add_argument("--scale-duration", type=int, default=6, help="seconds per scale run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument(
        "--only", default="throughput,roundtrip,scale", help="parts to run, comma-separated"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results.json")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    if unknown := parts - {"throughput", "roundtrip", "scale"}:
        parser.error(f"--only: unknown parts {sorted(unknown)}")
    opts = Options(
        reps=1 if args.quick else args.reps,
        duration=2 if args.quick else args.duration,
        scale_duration=2 if args.quick else args.scale_duration,
        connections=args.connections,
        engines=args.engines.split(","),
        sizes=[int(s) for s in args.sizes.split(",")],
        pg_url=os.environ.get("REVERSE_OTP_BENCH_DATABASE_URL", DEFAULT_PG),
        out=args.out,
    )
    results: dict[str, Any] = {"machine": machine(), "options": asdict(opts) | {"out": ""}}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="reverse-otp-bench-") as tmp:
        for engine_name in opts.engines:
            workdir = Path(tmp) / engine_name
            workdir.mkdir()
            if "throughput" in parts:
                print(f"throughput on {engine_name} ...", flush=True)
                results.setdefault("throughput", {})[engine_name] = throughput(
                    engine_name, opts, workdir
                )
            if "roundtrip" in parts:
                print(f"round trips on {engine_name} ...", flush=True)
                url = fresh_database(engine_name, opts.pg_url, workdir)
                migrate(url)
                results.setdefault("roundtrip", {})[engine_name] = roundtrip.measure(
                    url, workdir, opts.reps, opts.duration, opts.connections
                )
            if "scale" in parts:
                print(f"pending-challenge scale on {engine_name} ...", flush=True)
                results.setdefault("scale", {})[engine_name] = scale(engine_name, opts, workdir)
    results["minutes"] = (time.monotonic() - started) / 60
    results["machine"]["load_after"] = os.getloadavg()
    args.json.write_text(json.dumps(kept(args.json, results, parts), indent=2) + "\n")
    report.write(results, opts.out, quick=args.quick)
    if opts.out == ROOT / "docs" / "benchmarks.md" and results.get("throughput"):
        report.write_sizing(results, ROOT / "docs" / "deployment.md")
    print(f"done in {results['minutes']:.1f} min; wrote {opts.out} and {args.json}")


if __name__ == "__main__":
    main()
