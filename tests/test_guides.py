"""The integration guides (docs/guides/), their code blocks run as written against a real server.

Each guide's blocks are read from the markdown: the `sh` blocks of a guide run in order as one
bash script, its `python` and `js` blocks as one file each, and the `toml` block is the server's
configuration (its `<...>` placeholders filled in). The examples take the server URL, the API
key and the callback secret from the environment, so nothing else of a block is rewritten.
The development simulator plays the user's phone; a request signed with Twilio's own library
plays Twilio. `swift`, `kotlin` and `console` blocks cannot run here (no phone, no Twilio
account, no internet) and are listed as not run.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
from standardwebhooks.webhooks import Webhook
from twilio.request_validator import RequestValidator

from tests.conftest import AUTH, SECRET, SIM_SECRET, development_settings
from tests.e2e.live import signed_sms
from tests.e2e.server import free_port, running_server, write_config

pytestmark = pytest.mark.e2e

GUIDES = Path(__file__).resolve().parents[1] / "docs" / "guides"
WEB, MOBILE, TWILIO = "web-backend.md", "mobile-app.md", "going-live-twilio.md"
RUN = {"sh", "python", "js", "toml"}
# The blocks that cannot run here, deliberately: (guide, language, start of the first line).
NOT_RUN = [
    (MOBILE, "swift", "func openMessages(smsURI: String, to: String, body: String) {"),
    (MOBILE, "kotlin", "fun openMessages(context: Context, to: String, body: String) {"),
    (TWILIO, "console", "$ twilio api:core:available-phone-numbers:mobile:list"),
    (TWILIO, "console", "$ cloudflared tunnel --url http://localhost:8000"),
    (TWILIO, "console", '$ twilio phone-numbers:update "+447700900123" --sms-url'),
]
API_KEY = AUTH["Authorization"].removeprefix("Bearer ")
RETURN_ORIGIN = "https://shop.example"
TIMEOUT = 30.0


@dataclass(frozen=True)
class Block:
    guide: str
    lang: str
    code: str


def blocks(guide: str) -> list[Block]:
    text = (GUIDES / guide).read_text()
    fences = re.findall(r"^```([\w-]*)\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)
    return [Block(guide, lang, code) for lang, code in fences]


def program(guide: str, lang: str) -> str:
    return "\n".join(b.code for b in blocks(guide) if b.lang == lang)


def test_every_block_is_run_or_listed_as_not_run():
    found = [b for guide in (WEB, MOBILE, TWILIO) for b in blocks(guide)]
    assert {b.lang for b in found} <= RUN | {lang for _, lang, _ in NOT_RUN}
    skipped = [(b.guide, b.lang, b.code.splitlines()[0]) for b in found if b.lang not in RUN]
    print("not run:", *(f"{g} ({lang}): {first}" for g, lang, first in skipped), sep="\n  ")
    assert len(skipped) == len(NOT_RUN)
    for (guide, lang, first), (listed_guide, listed_lang, start) in zip(
        skipped, NOT_RUN, strict=True
    ):
        assert (guide, lang) == (listed_guide, listed_lang) and first.startswith(start)
    assert {b.lang for b in blocks(WEB)} == {"sh", "python", "js"}
    assert {b.lang for b in blocks(MOBILE)} == {"sh", "js", "swift", "kotlin"}
    assert {b.lang for b in blocks(TWILIO)} == {"sh", "toml", "console"}


def test_the_guides_are_linked_from_the_readme_and_the_clients_page():
    readme = (GUIDES.parents[1] / "README.md").read_text()
    clients = (GUIDES / "clients.md").read_text()
    for guide in (WEB, MOBILE, TWILIO):
        assert f"docs/guides/{guide}" in readme
        assert f"({guide})" in clients


class Script:
    """A program run in the background whose output lines the test reads as they come."""

    def __init__(self, command: list[str], env: dict[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def next_line(self, timeout: float = TIMEOUT) -> str:
        line = self.lines.get(timeout=timeout)
        if line is None:
            raise AssertionError(f"the program ended; stderr:\n{self.stderr()}")
        self.seen.append(line)
        return line

    def next_json(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        """Read lines until they make one JSON object (the server indents its answers)."""
        text = ""
        while True:
            text += self.next_line(timeout) + "\n"
            try:
                found: dict[str, Any] = json.loads(text)
                return found
            except json.JSONDecodeError:
                continue

    def until(self, pattern: str, timeout: float = TIMEOUT) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.next_line(max(0.1, deadline - time.monotonic())))
            if found:
                return found

    def finish(self, timeout: float = TIMEOUT) -> list[str]:
        """Wait for the program to end successfully; return the lines not read yet."""
        assert self.process.wait(timeout=timeout) == 0, self.stderr()
        rest = []
        while (line := self.lines.get(timeout=5)) is not None:
            rest.append(line)
        return rest

    def stderr(self) -> str:
        if self.process.poll() is None:
            return "(still running)"
        assert self.process.stderr is not None
        return self.process.stderr.read()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.reader.join(timeout=5)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


def json_documents(lines: list[str]) -> list[Any]:
    """Return the JSON documents printed one after the other."""
    text, found, decoder = "\n".join(lines), [], json.JSONDecoder()
    position = 0
    while text[position:].strip():
        position += len(text[position:]) - len(text[position:].lstrip())
        document, position = decoder.raw_decode(text, position)
        found.append(document)
    return found


def script_env(**values: str) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("REVERSE_OTP_")}
    path = f"{Path(sys.executable).parent}{os.pathsep}{environ.get('PATH', '')}"
    return environ | {"PATH": path} | values


def bash(code: str, env: dict[str, str], cwd: Path) -> Script:
    return Script(["bash", "-euo", "pipefail", "-c", code], env, cwd)


def source_file(folder: Path, name: str, code: str) -> Path:
    path = folder / name
    path.write_text(code)
    return path


@dataclass(frozen=True)
class DevServer:
    base: str
    receiver_port: int
    callback_secret: str

    def env(self, **values: str) -> dict[str, str]:
        return script_env(
            REVERSE_OTP_URL=self.base,
            REVERSE_OTP_API_KEY=API_KEY,
            REVERSE_OTP_CALLBACK_SECRET=self.callback_secret,
            **values,
        )


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory):
    """A development server whose callbacks go to the guide's receiver, when one listens."""
    folder = tmp_path_factory.mktemp("guides-server")
    port, receiver_port = free_port(), free_port()
    secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    raw = development_settings(
        folder,
        callbacks={
            "url": f"http://127.0.0.1:{receiver_port}/reverse-otp/callback",
            "secret": secret,
            "allow_private": True,
            "poll_interval": 0.2,
        },
    )
    raw["server"]["public_url"] = f"http://127.0.0.1:{port}"
    raw["page"] = {"return_origins": [RETURN_ORIGIN]}  # the origin the mobile guide names
    config = write_config(folder / "config.toml", raw)
    with running_server(folder, config=config, port=port) as base:
        yield DevServer(base, receiver_port, secret)


def send_sms(base: str, to: str, text: str, sender: str) -> None:
    body, headers = signed_sms(SIM_SECRET, to, text, sender)
    answer = requests.post(base + "/webhooks/simulator", data=body, headers=headers, timeout=10)
    assert answer.status_code in (200, 204), answer.text


def challenge(base: str, challenge_id: str) -> dict[str, Any]:
    answer = requests.get(f"{base}/api/v1/challenges/{challenge_id}", headers=AUTH, timeout=10)
    assert answer.status_code == 200
    found: dict[str, Any] = answer.json()
    return found


# ---------------------------------------------------------------- web backend


def test_web_backend_curl_creates_waits_and_shows_the_verified_challenge(dev_server, tmp_path):
    phone = "+33612345678"  # the number the guide's example names
    run = bash(program(WEB, "sh"), dev_server.env(), tmp_path)
    try:
        created = run.next_json()
        assert created["status"] == "pending"
        assert created["verify_url"].startswith(dev_server.base + "/v/")
        send_sms(dev_server.base, created["to"], created["body"], phone)
        waited, shown = json_documents(run.finish())
    finally:
        run.stop()
    assert waited["status"] == "verified"
    assert shown["id"] == created["id"]
    assert (shown["status"], shown["verified_phone"]) == ("verified", phone)
    assert shown["metadata"] == {"user_id": 42}


def start_shop(lang: str, dev_server: DevServer, folder: Path) -> Script:
    if lang == "python":
        command = [sys.executable, str(source_file(folder, "shop.py", program(WEB, "python")))]
    else:
        command = ["node", str(source_file(folder, "shop.mjs", program(WEB, "js")))]
    shop = Script(command, dev_server.env(PORT=str(dev_server.receiver_port)), folder)
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", dev_server.receiver_port), timeout=1).close()
            return shop
        except OSError:
            assert shop.process.poll() is None, shop.stderr()
            time.sleep(0.1)
    shop.stop()
    raise AssertionError("the guide's backend did not start listening")


def wait_for_verified_callback(shop: Script, base: str, phone: str) -> dict[str, Any]:
    """Read the receiver's lines until the callback for `phone`'s challenge is printed.

    Callbacks of other tests' challenges (retried to whichever receiver listens) are skipped.
    """
    while True:
        found = shop.until(r"^verified (ch_\S+) 42$")
        shown = challenge(base, found[1])
        if shown["verified_phone"] == phone:
            return shown


def signed_event(secret: str, event_id: str, body: str, when: datetime) -> dict[str, str]:
    signature = Webhook(secret).sign(event_id, when, body)
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": signature,
        "Content-Type": "application/json",
    }


def event_body(challenge_id: str) -> str:
    data = {"id": challenge_id, "status": "verified", "metadata": {"user_id": 42}}
    return json.dumps({"id": "evt_x", "type": "challenge.verified", "data": data})


@pytest.mark.parametrize("lang", ["python", "js"])
def test_web_backend_shows_the_page_and_widget_and_verifies_a_real_callback(
    lang, dev_server, tmp_path
):
    phone = "+33612345611" if lang == "python" else "+33612345612"
    base = dev_server.base
    shop = start_shop(lang, dev_server, tmp_path)
    try:
        url = f"http://127.0.0.1:{dev_server.receiver_port}"
        page = requests.post(url + "/verify-phone", data={"phone": phone}, allow_redirects=False)
        assert page.status_code == 303
        assert page.headers["Location"].startswith(base + "/v/")
        hosted = requests.get(page.headers["Location"], timeout=10)
        assert (hosted.status_code, hosted.headers["Content-Type"][:9]) == (200, "text/html")

        here = requests.post(url + "/verify-phone/here", data={"phone": phone}, timeout=10)
        assert here.status_code == 200
        assert f'<script src="{base}/static/reverse-otp.js" defer></script>' in here.text
        assert f'data-reverse-otp-server="{base}"' in here.text
        token = re.search(r'data-reverse-otp-token="([^"]+)"', here.text)[1]  # type: ignore[index]
        message = requests.get(f"{base}/api/v1/status/{token}/message", timeout=10).json()
        send_sms(base, message["to"], message["body"], phone)
        verified = wait_for_verified_callback(shop, base, phone)
        assert verified["status"] == "verified"
        assert verified["metadata"] == {"user_id": 42}
        refuses_forgeries(url, dev_server.callback_secret, shop)
    finally:
        shop.stop()


def refuses_forgeries(url: str, secret: str, shop: Script) -> None:
    """The guide's receiver accepts only a fresh, correctly signed, untouched body, once."""
    hook = url + "/reverse-otp/callback"
    now = datetime.now(UTC)
    body = event_body("ch_guide_forgery")
    genuine = signed_event(secret, "msg_1", body, now)
    other_secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    attacks = [
        (body.replace("ch_guide_forgery", "ch_someone_else"), genuine),
        (body, signed_event(other_secret, "msg_1", body, now)),
        (body, signed_event(secret, "msg_1", body, now - timedelta(minutes=10))),
        (body, genuine | {"webhook-signature": "garbage-without-a-comma"}),
        (body, genuine | {"webhook-signature": "v2," + genuine["webhook-signature"][3:]}),
        (body, {k: v for k, v in genuine.items() if k != "webhook-signature"}),
    ]
    for forged_body, headers in attacks:
        answer = requests.post(hook, data=forged_body.encode(), headers=headers, timeout=10)
        assert answer.status_code == 400, (headers, answer.status_code)
    assert requests.post(hook, data=body, headers=genuine, timeout=10).status_code == 204
    assert requests.post(hook, data=body, headers=genuine, timeout=10).status_code == 204
    marker = event_body("ch_guide_marker")
    requests.post(hook, data=marker, headers=signed_event(secret, "msg_2", marker, now), timeout=10)
    shop.until(r"^verified ch_guide_marker 42$")
    printed = [line for line in shop.seen if "ch_guide_forgery" in line or "ch_someone" in line]
    assert printed == ["verified ch_guide_forgery 42"]  # a repeat is acknowledged, not redone


# ---------------------------------------------------------------- mobile app


def test_mobile_app_backend_gives_the_app_what_it_needs_and_the_app_polls_to_the_end(
    dev_server, tmp_path
):
    phone = "+33612345678"  # the number the guide's example names
    app = source_file(tmp_path, "app.mjs", program(MOBILE, "js"))
    run = Script(["node", str(app)], dev_server.env(), tmp_path)
    try:
        check = run.next_json()
        assert set(check) == {"to", "body", "sms_uri", "status_url", "events_url", "expires_at"}
        assert check["sms_uri"] == f"sms:{check['to']}?&body={quote(check['body'], safe='')}"
        send_sms(dev_server.base, check["to"], check["body"], phone)
        assert run.finish() == ["verified"]
    finally:
        run.stop()


def test_mobile_app_listens_to_the_events_until_verified(dev_server, tmp_path):
    phone = "+33612345678"
    run = bash(program(MOBILE, "sh"), dev_server.env(), tmp_path)
    try:
        created = run.next_json()
        run.until(r"^event: pending$")
        send_sms(dev_server.base, created["to"], created["body"], phone)
        run.until(r"^event: verified$")
        data = json.loads(run.until(r"^data: (.*)$")[1])
        assert data["status"] == "verified"
        shown, back = json_documents(run.finish())
    finally:
        run.stop()
    assert (shown["id"], shown["status"], shown["verified_phone"]) == (
        created["id"],
        "verified",
        phone,
    )
    returns_to_the_app(dev_server.base, back, phone)


def returns_to_the_app(base: str, created: dict[str, Any], phone: str) -> None:
    """The hosted page of a challenge with a return_url leads back with id and status, and
    the proof in the fragment (proofs are on in development)."""
    return_url = re.search(r'"return_url": "([^"]+)"', program(MOBILE, "sh"))[1]  # type: ignore[index]
    assert return_url.startswith(RETURN_ORIGIN + "/")
    expected = f"{return_url}?challenge_id={created['id']}&amp;status=verified"
    redirect = re.compile(r'<meta http-equiv="refresh" content="\d+;url=([^"]+)">')
    assert redirect.search(requests.get(created["verify_url"], timeout=10).text) is None
    send_sms(base, created["to"], created["body"], phone)
    page = requests.get(created["verify_url"], timeout=10).text
    assert f'id="continue-verified" href="{expected}#proof=ey' in page
    found = redirect.search(page)  # after verification the page goes back by itself
    assert found is not None and found[1].startswith(f"{expected}#proof=ey")


# ---------------------------------------------------------------- going live with Twilio

TWILIO_NUMBER = "+14155550100"


def live_config(folder: Path, auth_token: str, public_url: str) -> Path:
    """The guide's configuration, each of its placeholders filled in.

    The public URL is the local server's own: the status URLs in the answers must lead back
    to it, and Twilio signs whatever URL it is given (here, as through a tunnel, the same).
    """
    (folder / "db").mkdir()
    toml = program(TWILIO, "toml")
    fills = {
        "<the https URL the server is reached at>": public_url,
        "<a random string of 48 characters or more>": SECRET,
        "<absolute path to a folder of its own>": str(folder / "db"),
        "<your Twilio number, E.164>": TWILIO_NUMBER,
        "<your Twilio auth token>": auth_token,
    }
    assert set(re.findall(r"<[^>]+>", toml)) == set(fills)
    for placeholder, value in fills.items():
        toml = toml.replace(placeholder, value)
    path = folder / "config.toml"
    path.write_text(toml)
    return path


def twilio_webhook(base: str, auth_token: str, sender: str, to: str, text: str) -> int:
    sid = "SM" + secrets.token_hex(16)
    form = {
        "MessageSid": sid,
        "SmsSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": "AC" + secrets.token_hex(16),
        "From": sender,
        "To": to,
        "Body": text,
        "NumSegments": "1",
        "NumMedia": "0",
        "ApiVersion": "2010-04-01",
    }
    signature = RequestValidator(auth_token).compute_signature(base + "/webhooks/twilio", form)
    answer = requests.post(
        base + "/webhooks/twilio", data=form, headers={"X-Twilio-Signature": signature}, timeout=10
    )
    return answer.status_code


def test_going_live_with_twilio_from_the_guides_configuration_to_a_verified_sms(tmp_path):
    auth_token = secrets.token_hex(16)
    port = free_port()
    config = live_config(tmp_path, auth_token, f"http://127.0.0.1:{port}")
    with running_server(tmp_path, config=config, port=port) as base:
        env = script_env(REVERSE_OTP_URL=base, REVERSE_OTP_CONFIG=str(config))
        run = bash(program(TWILIO, "sh"), env, tmp_path)
        try:
            assert run.next_line() == "403"  # reachable, and the signature is checked
            created = run.next_json()
            assert created["to"] == TWILIO_NUMBER
            phone = "+33612345678"  # MY_PHONE in the guide
            assert twilio_webhook(base, "0" * 32, phone, TWILIO_NUMBER, created["body"]) == 403
            assert twilio_webhook(base, auth_token, phone, TWILIO_NUMBER, created["body"]) == 200
            waited, shown = json_documents(run.finish())
        finally:
            run.stop()
    assert waited["status"] == "verified"
    assert (shown["id"], shown["status"], shown["verified_phone"]) == (
        created["id"],
        "verified",
        phone,
    )
