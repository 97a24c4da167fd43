"""The README walkthrough, run as written against the real server in development mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.server import free_port, running_server

README = Path(__file__).resolve().parents[2] / "README.md"

pytestmark = pytest.mark.e2e


def walkthrough_script() -> str:
    text = README.read_text()
    block = text.split("<!-- walkthrough -->", 1)[1]
    return block.split("```sh\n", 1)[1].split("```", 1)[0]


def test_the_readme_walkthrough_ends_verified(tmp_path):
    port = free_port()
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    env = {"REVERSE_OTP_SERVER__PUBLIC_URL": f"http://127.0.0.1:{port}"}
    script = walkthrough_script().replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    with running_server(tmp_path, port=port, env=env):
        before = set(tmp_path.iterdir())
        environ = {k: v for k, v in os.environ.items() if not k.startswith("REVERSE_OTP_")} | env
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=tmp_path,
            env=environ,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    final = done.stdout[done.stdout.rindex("{") :]
    assert json.loads(final)["status"] == "verified"
    assert final.strip().splitlines()[-2].strip() == '"status": "verified"'
    assert (tmp_path / "instance" / "api_key").exists()
    assert set(tmp_path.iterdir()) == before  # the walkthrough leaves nothing in the clone


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
