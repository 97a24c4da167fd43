"""The README walkthrough, run as written against the real server in development mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.server import INSTANCE_VARIABLE, free_port, running_server

README = Path(__file__).resolve().parents[2] / "README.md"

pytestmark = pytest.mark.e2e


def walkthrough_script() -> str:
    text = README.read_text()
    block = text.split("<!-- walkthrough -->", 1)[1]
    return block.split("```sh\n", 1)[1].split("```", 1)[0]


def run_walkthrough(folder: Path, port: int) -> subprocess.CompletedProcess[str]:
    script = walkthrough_script().replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("REVERSE_OTP_")}
    # The server's instance folder (running_server's, in this clone): key and served URL.
    environ[INSTANCE_VARIABLE] = str(folder / "instance")
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=folder,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_readme_walkthrough_ends_verified_ten_times_on_another_port(tmp_path):
    # No public_url is set: in development it follows the port served, and simulate-sms
    # finds the running server by itself.
    port = free_port()
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    with running_server(tmp_path, port=port):
        before = set(tmp_path.iterdir())
        for _ in range(10):
            done = run_walkthrough(tmp_path, port)
            assert done.returncode == 0, done.stderr
            final = done.stdout[done.stdout.rindex("{") :]
            assert json.loads(final)["status"] == "verified"
            lines = [line.strip().rstrip(",") for line in final.strip().splitlines()]
            assert '"status": "verified"' in lines  # as the README shows it
            created, _ = json.JSONDecoder().raw_decode(done.stdout)
            assert created["verify_url"].startswith(f"http://127.0.0.1:{port}/v/")
            assert created["events_url"].startswith(f"http://127.0.0.1:{port}/")
        after = set(tmp_path.iterdir())
    assert (tmp_path / "instance" / "api_key").exists()
    assert after == before  # the walkthrough leaves nothing in the clone
    log = (tmp_path / f"server-{port}.log").read_text()
    for path in ("/ ", "/dev/phone ", "/docs ", "/admin "):
        assert f"http://127.0.0.1:{port}{path}" in log  # the URLs to open, at start
    assert "alembic" not in log  # no migration noise


def test_the_readme_walkthrough_stops_with_a_clear_message_when_creation_fails(tmp_path):
    port = free_port()
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    with running_server(tmp_path, port=port, env={"REVERSE_OTP_LIMITS__PER_PHONE": "1/hour"}):
        assert run_walkthrough(tmp_path, port).returncode == 0
        done = run_walkthrough(tmp_path, port)
    assert done.returncode != 0
    assert "walkthrough stopped: " in done.stderr
    assert "rate_limited" in done.stderr or "limit" in done.stderr
    assert "Traceback" not in done.stderr
    assert "simulate-sms" not in done.stderr


def test_the_server_refuses_bad_settings_with_a_clear_message(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[server]\nsecret_key = "short"\n')
    exe = Path(sys.executable).with_name("reverse-otp")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("REVERSE_OTP_")}
    done = subprocess.run(
        [str(exe), "serve", "--port", str(free_port())],
        cwd=tmp_path,
        env=environ | {"REVERSE_OTP_CONFIG": str(config)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode != 0
    assert "server.secret_key" in done.stderr
    assert "Traceback" not in done.stderr
