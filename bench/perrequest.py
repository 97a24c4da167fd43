"""Profile the hot paths in process, one request at a time: where a request's CPU goes.

    python bench/perrequest.py DATABASE_URL [--requests 300]

Creates challenges through the API and verifies each with a signed simulator webhook, through
Flask's test client (no server, no network), under cProfile. Prints wall and CPU time per
request and the share of CPU by package. The database is the one given: use a scratch one.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import logging
import pstats
import secrets
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from app.config import load  # noqa: E402
from app.providers.simulator import HEADER, sign  # noqa: E402

SECRET = "profile-secret-key-that-is-long-enough-0123456789"
SIM_SECRET = "profile-simulator-secret"
API_KEY = "profile-api-key-0123456789abcdef0123456789"
NUMBER = "+15017122661"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


def build(url: str, instance: Path) -> Any:
    settings = {
        "server": {
            "mode": "production",
            "secret_key": SECRET,
            "public_url": "http://127.0.0.1",
            "instance_path": str(instance),
            "unsafe_allow_simulator": True,
        },
        "limits": {  # on, as the benchmark runs them, with budgets the run cannot exhaust
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
    app = create_app(load(overrides=settings, environ={}))
    logging.getLogger().setLevel(logging.WARNING)  # as the benchmark serves: no INFO lines
    app.extensions["reverse_otp"].ctx.store.create_schema()
    return app


def webhook(client: Any, body: str, sender: str) -> Any:
    payload = json.dumps({"from": sender, "to": NUMBER, "text": body, "id": secrets.token_hex(8)})
    headers = {HEADER: sign(SIM_SECRET, payload.encode())}
    return client.post(
        "/webhooks/simulator", data=payload, content_type="application/json", headers=headers
    )


def timed(label: str, calls: list[Any], run: Any) -> cProfile.Profile:
    profile = cProfile.Profile()
    wall, cpu = time.perf_counter(), time.process_time()
    profile.enable()
    for call in calls:
        run(call)
    profile.disable()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    n = len(calls)
    print(f"{label}: {1000 * wall / n:.2f} ms wall, {1000 * cpu / n:.2f} ms CPU per request")
    return profile


def functions(profile: cProfile.Profile, top: int) -> None:
    """Print the functions with the most cumulative time (app's own code and its libraries)."""
    if top:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(top)


def shares(profile: cProfile.Profile, top: int = 12) -> None:
    """Print the share of self time by package (app modules by their room)."""
    stats = pstats.Stats(profile)
    by: dict[str, float] = defaultdict(float)
    total = 0.0
    for (path, _line, _name), row in stats.stats.items():  # type: ignore[attr-defined]
        self_time = row[2]
        total += self_time
        by[_package(path)] += self_time
    for name, spent in sorted(by.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {100 * spent / total:5.1f}%  {name}")


def _package(path: str) -> str:
    if "site-packages/" in path:
        return path.split("site-packages/")[1].split("/")[0].removesuffix(".py")
    if "/app/" in path:
        parts = path.split("/app/")[1].split("/")
        return "app/" + (parts[0] if len(parts) > 1 else parts[0].removesuffix(".py"))
    if path.startswith("~") or "/lib/python" in path:
        return "python stdlib and builtins"
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--top", type=int, default=0, help="also list the N costliest functions")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = build(args.url, Path(tmp))
        client = app.test_client()
        for _ in range(20):  # warm-up: statement caches, imports, connections
            made = client.post("/api/v1/challenges", json={}, headers=AUTH).json
            webhook(client, made["body"], "+14155550000")
        made_list: list[dict[str, Any]] = []
        creation = timed(
            "create",
            list(range(args.requests)),
            lambda _: made_list.append(
                client.post("/api/v1/challenges", json={}, headers=AUTH).json
            ),
        )
        shares(creation)
        functions(creation, args.top)
        hooks = timed(
            "webhook (verifies)",
            made_list,
            lambda made: webhook(client, made["body"], f"+1415555{secrets.randbelow(10**4):04d}"),
        )
        shares(hooks)
        functions(hooks, args.top)
        status = timed(
            "status read",
            made_list,
            lambda made: client.get(f"/api/v1/status/{made['token']}"),
        )
        shares(status)
        functions(status, args.top)
        app.extensions["reverse_otp"].ctx.store.dispose()


if __name__ == "__main__":
    main()
