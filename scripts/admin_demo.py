"""Drive a real server with a few hundred challenges, then screenshot /admin.

Starts `reverse-otp serve` on loopback in a temporary folder (production mode, SQLite, the
simulator on two numbers and Twilio on a third), creates challenges over HTTP and answers
them over the webhooks as users would: most verify after a few seconds to a minute, some
from the wrong phone until they fail, some are cancelled, some left to expire, with noise
(texts without a code, unknown codes, redeliveries, forged signatures). Then it logs in to
/admin with headless Chromium and saves a full-page screenshot.

    .venv/bin/python scripts/admin_demo.py --challenges 300 --spread 60 --out docs/admin.png

Bounded: every request has a timeout, the run lasts about `--spread` seconds plus the
expiry wait (35 s), and all traffic goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from app.providers import simulator, twilio

SIM_NUMBERS = ["+15017122661", "+442071838750"]
TWILIO_NUMBER = "+14155550100"
SIM_SECRET = "demo-simulator-secret"
TWILIO_TOKEN = "demo-twilio-token"
API_KEY = "demo-api-key-" + "a" * 20
ADMIN_KEY = "demo-admin-key-" + "b" * 20
METRICS_TOKEN = "demo-metrics-token-" + "c" * 16
SHORT_TTL = 30
PHONES = ["+33612345678", "+33698765432", "+14155552671", "+447911123456", "+4915123456789"]


def config_text(port: int, folder: Path) -> str:
    numbers = [(n, "simulator") for n in SIM_NUMBERS] + [(TWILIO_NUMBER, "twilio")]
    blocks = "".join(f'[[numbers]]\nnumber = "{n}"\nprovider = "{p}"\n' for n, p in numbers)
    return f"""
[server]
mode = "production"
public_url = "http://127.0.0.1:{port}"
secret_key = "{secrets.token_urlsafe(40)}"
name = "reverse-otp demo"
# The simulator stands in for a second provider on loopback; never do this in production.
unsafe_allow_simulator = true
[database]
url = "sqlite:///{folder / "demo.db"}"
[api]
keys = ["{API_KEY}"]
[codes]
min_ttl = {SHORT_TTL}
[limits]
# One client, five made-up phones: lift the abuse limits meant for real traffic.
per_api_key = "100000/hour"
per_ip = "100000/hour"
per_phone = "100000/hour"
sender_failures = "100000/hour"
[admin]
key = "{ADMIN_KEY}"
[metrics]
token = "{METRICS_TOKEN}"
[providers.simulator]
secret = "{SIM_SECRET}"
[providers.twilio]
auth_token = "{TWILIO_TOKEN}"
{blocks}"""


@contextmanager
def server(folder: Path, workers: int) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (folder / "config.toml").write_text(config_text(port, folder))
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVERSE_OTP_")}
    env["REVERSE_OTP_CONFIG"] = str(folder / "config.toml")
    exe = Path(sys.executable).with_name("reverse-otp")
    log = (folder / "server.log").open("wb")
    command = [str(exe), "serve", "--port", str(port), "--workers", str(workers)]
    process = subprocess.Popen(command, env=env, cwd=folder, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if requests.get(base + "/readyz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            raise SystemExit(f"server did not start; see {folder / 'server.log'}")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


class Driver:
    """Sends what users and providers would send, and counts what came back."""

    def __init__(self, base: str, rng: random.Random) -> None:
        self.base = base
        self.rng = rng
        self.http = requests.Session()
        self.tally: Counter[str] = Counter()

    def create(self, phone: str | None, ttl: int | None) -> dict[str, Any]:
        body: dict[str, Any] = {"metadata": {"demo": True}}
        if phone:
            body["phone"] = phone
        if ttl:
            body["ttl"] = ttl
        headers = {"Authorization": f"Bearer {API_KEY}"}
        response = self.http.post(
            f"{self.base}/api/v1/challenges", json=body, headers=headers, timeout=10
        )
        response.raise_for_status()
        created: dict[str, Any] = response.json()
        return created

    def text(self, to: str, sender: str, text: str, message_id: str | None = None) -> None:
        message_id = message_id or secrets.token_hex(8)
        if to == TWILIO_NUMBER:
            self._twilio(to, sender, text, message_id)
        else:
            self._simulator(to, sender, text, message_id)

    def _simulator(self, to: str, sender: str, text: str, message_id: str) -> None:
        body = json.dumps({"from": sender, "to": to, "text": text, "id": "sim-" + message_id})
        headers = {
            "Content-Type": "application/json",
            simulator.HEADER: simulator.sign(SIM_SECRET, body.encode()),
        }
        self._post("/webhooks/simulator", body.encode(), headers)

    def _twilio(self, to: str, sender: str, text: str, message_id: str) -> None:
        params = [("From", sender), ("To", to), ("Body", text), ("MessageSid", "SM" + message_id)]
        url = f"{self.base}/webhooks/twilio"
        headers = {"X-Twilio-Signature": twilio.signature(TWILIO_TOKEN, url, params)}
        self._post("/webhooks/twilio", params, headers)

    def forged(self) -> None:
        body = b'{"from": "+33612345678", "to": "+15017122661", "text": "x", "id": "forged"}'
        headers = {"Content-Type": "application/json", simulator.HEADER: "00" * 32}
        self._post("/webhooks/simulator", body, headers)

    def _post(self, path: str, data: Any, headers: dict[str, str]) -> None:
        response = self.http.post(self.base + path, data=data, headers=headers, timeout=10)
        self.tally[f"webhook {response.status_code}"] += 1

    def show(self, challenge_id: str) -> None:
        headers = {"Authorization": f"Bearer {API_KEY}"}
        self.http.get(f"{self.base}/api/v1/challenges/{challenge_id}", headers=headers, timeout=10)

    def cancel(self, challenge_id: str) -> None:
        headers = {"Authorization": f"Bearer {API_KEY}"}
        url = f"{self.base}/api/v1/challenges/{challenge_id}/cancel"
        self.http.post(url, headers=headers, timeout=10)


Plan = list[tuple[float, int, Callable[[], None]]]


def plan(driver: Driver, count: int, spread: float) -> tuple[Plan, list[str]]:
    """Create the challenges now; return the timed actions answering them, and who expires."""
    rng, events, expiring = driver.rng, [], []
    order = 0

    def at(delay: float, action: Callable[[], None]) -> None:
        nonlocal order
        order += 1
        events.append((delay, order, action))

    for _ in range(count):
        expected = rng.choice(PHONES) if rng.random() < 0.4 else None
        fate = rng.choices(["verify", "fail", "cancel", "expire", "pending"], [70, 8, 7, 10, 5])[0]
        c = driver.create(expected, SHORT_TTL if fate == "expire" else None)
        user = expected or rng.choice(PHONES)
        when = min(rng.lognormvariate(2.6, 0.8), spread)
        if fate == "verify":
            if rng.random() < 0.15:
                at(when * 0.5, lambda c=c, u=user: driver.text(c["to"], u, "hello, which code?"))
            message_id = secrets.token_hex(8)
            at(when, lambda c=c, u=user, m=message_id: driver.text(c["to"], u, c["body"], m))
            if rng.random() < 0.1:  # the provider redelivers
                at(
                    when + 1,
                    lambda c=c, u=user, m=message_id: driver.text(c["to"], u, c["body"], m),
                )
        elif fate == "fail" and expected:
            for i in range(5):
                other = rng.choice([p for p in PHONES if p != expected])
                at(when + i, lambda c=c, o=other: driver.text(c["to"], o, c["body"]))
        elif fate in ("cancel", "fail"):
            at(when, lambda c=c: driver.cancel(c["id"]))
        elif fate == "expire":
            expiring.append(c["id"])
            if rng.random() < 0.3:
                at(when, lambda c=c, u=user: driver.text(c["to"], u, "VERIFY 000000"))
    for _ in range(count // 30):
        at(rng.uniform(0, spread), driver.forged)
    return events, expiring


def run(events: Plan, threads: int) -> None:
    heapq.heapify(events)
    start = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        while events:
            delay, _, action = heapq.heappop(events)
            wait = start + delay - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            pool.submit(action)


def screenshot(base: str, out: Path, window: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(f"{base}/admin/login")
        page.fill("#key", ADMIN_KEY)
        page.click("button[type=submit]")
        page.goto(f"{base}/admin?window={window}")
        page.screenshot(path=str(out), full_page=True)
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--challenges", type=int, default=300)
    parser.add_argument("--spread", type=float, default=60.0, help="seconds answers spread over")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--window", default="1h", choices=["1h", "24h", "7d"])
    parser.add_argument("--out", type=Path, default=Path("docs/admin.png"))
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="reverse-otp-demo-") as tmp,
        server(Path(tmp), args.workers) as base,
    ):
        driver = Driver(base, random.Random(args.seed))
        began = time.monotonic()
        events, expiring = plan(driver, args.challenges, args.spread)
        run(events, args.threads)
        time.sleep(max(0.0, SHORT_TTL + 2 - (time.monotonic() - began)))
        for challenge_id in expiring:
            driver.show(challenge_id)  # reading settles the expiry
        screenshot(base, args.out, args.window)
        scrape = requests.get(
            f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10
        ).text
    created = [ln for ln in scrape.splitlines() if ln.startswith("reverse_otp_challenges_")]
    print(f"{args.challenges} challenges in {time.monotonic() - began:.0f}s; {dict(driver.tally)}")
    print("\n".join(created))
    print(f"screenshot: {args.out}")


if __name__ == "__main__":
    main()
