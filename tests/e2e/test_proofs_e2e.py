"""Proofs against the real server process: the docs' PyJWT code fetches the JWKS over HTTP,
verifies the proof of a challenge verified by a signed SMS, refuses a tampered, expired,
misdirected or rotated-out one, and verifies the proof a real callback delivers."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.callback_helpers import HOOK_SECRET, SIMULATOR_ONLY
from tests.conftest import API_KEY, NUMBER, SIM_SECRET, base_settings
from tests.e2e.live import create, signed_sms
from tests.e2e.server import free_port, running_server, write_config
from tests.test_callback_receivers import documented_verify

pytestmark = pytest.mark.e2e

DOC = Path(__file__).resolve().parents[2] / "docs" / "proofs.md"
PHONE = "+33612345678"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


def documented(issuer: str, app_id: str = "default") -> dict[str, Any]:
    """Run the Python block of docs/proofs.md for this server; return its names."""
    block = re.search(r"<!-- python-proof -->\s*```python\n(.*?)```", DOC.read_text(), re.S)
    assert block, "docs/proofs.md lost its Python example"
    code = block.group(1)
    code, issuers = re.subn(r'^ISSUER = "[^"]*"', f"ISSUER = {issuer!r}", code, flags=re.M)
    code, apps = re.subn(r'^APP_ID = "[^"]*"', f"APP_ID = {app_id!r}", code, flags=re.M)
    assert issuers == apps == 1
    namespace: dict[str, Any] = {}
    exec(compile(code, str(DOC), "exec"), namespace)
    return namespace


class Hooks(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Hook)
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.arrived = threading.Event()


class Hook(BaseHTTPRequestHandler):
    server: Hooks

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(200)
        self.end_headers()
        self.server.arrived.set()

    def log_message(self, format: str, *args: object) -> None:
        pass


def key_file(folder: Path, name: str) -> str:
    path = folder / f"{name}.pem"
    key = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(path)


def verify_by_sms(base: str) -> dict[str, Any]:
    made = create(base, API_KEY, phone=PHONE, metadata={"session": "n0nce-é", "n": 3})
    assert made["proof"] is None
    body, headers = signed_sms(SIM_SECRET, NUMBER, made["body"], sender=PHONE)
    answer = requests.post(base + "/webhooks/simulator", data=body, headers=headers, timeout=10)
    assert answer.status_code == 200
    shown = requests.get(f"{base}/api/v1/challenges/{made['id']}", headers=AUTH, timeout=10)
    view: dict[str, Any] = shown.json()
    assert view["status"] == "verified"
    return view


def test_proofs_verify_offline_with_the_documented_pyjwt_code(tmp_path):
    keys = {name: key_file(tmp_path, name) for name in ("old", "new")}
    hooks = Hooks()
    threading.Thread(target=hooks.serve_forever, daemon=True).start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    def config(**proofs: Any) -> Path:
        raw = base_settings(
            tmp_path,
            server={"public_url": base},
            numbers=SIMULATOR_ONLY,
            proofs=proofs,
            callbacks={
                "url": f"http://127.0.0.1:{hooks.server_address[1]}/hook",
                "secret": HOOK_SECRET,
                "allow_private": True,
                "poll_interval": 0.1,
            },
        )
        return write_config(tmp_path / "config.toml", raw)

    try:
        with running_server(tmp_path, config(key_file=keys["old"]), port=port, workers=1):
            pending = create(base, API_KEY, phone=PHONE)
            url = f"{base}/api/v1/challenges/{pending['id']}"
            assert requests.get(url, headers=AUTH, timeout=10).json()["proof"] is None

            view = verify_by_sms(base)
            proof = view["proof"]
            doc = documented(base)
            claims = doc["verify_proof"](proof)
            assert claims["sub"] == PHONE
            assert claims["aud"] == "default"
            assert claims["jti"] == view["id"]
            assert claims["amr"] == ["sms"]
            assert claims["metadata_sha256"] == doc["metadata_sha256"](view["metadata"])

            with pytest.raises(jwt.InvalidAudienceError):
                documented(base, app_id="app_someone_else")["verify_proof"](proof)
            header, payload, signature = proof.split(".")
            tampered = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
            with pytest.raises(jwt.PyJWTError):
                doc["verify_proof"](f"{header}.{tampered}.{signature}")
            with pytest.raises(jwt.ExpiredSignatureError):
                # The verifier's clock 601 s later (exp is iat + 600; iat left unchecked).
                key = doc["jwks"].get_signing_key_from_jwt(proof)
                jwt.decode(
                    proof,
                    key,
                    algorithms=["ES256"],
                    audience="default",
                    leeway=-601,
                    options={"verify_iat": False},
                )

            assert hooks.arrived.wait(20), "no callback arrived"
            headers, body = hooks.received[0]
            assert documented_verify()(HOOK_SECRET, headers, body)
            event = json.loads(body)
            assert event["type"] == "challenge.verified"
            assert event["data"]["verified_phone"] != PHONE  # masked in the callback's fields
            assert doc["verify_proof"](event["data"]["proof"])["jti"] == view["id"]

        rotated = config(key_file=keys["new"], verify_key_files=[keys["old"]])
        with running_server(tmp_path, rotated, port=port, workers=1):
            assert documented(base)["verify_proof"](proof)["sub"] == PHONE
            fresh = verify_by_sms(base)["proof"]
            assert (
                jwt.get_unverified_header(fresh)["kid"] != jwt.get_unverified_header(proof)["kid"]
            )

        with running_server(tmp_path, config(key_file=keys["new"]), port=port, workers=1):
            doc = documented(base)
            assert doc["verify_proof"](fresh)["sub"] == PHONE
            with pytest.raises(jwt.PyJWKClientError):
                doc["verify_proof"](proof)
    finally:
        hooks.shutdown()
        hooks.server_close()
