"""Development mode and the Werkzeug debugger are refused with a production configuration."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import load
from app.config.checks import ConfigError
from tests.conftest import base_settings, development_settings
from tests.e2e.server import free_port, write_config

LOCAL = "http://127.0.0.1:8000"


def test_development_mode_runs_with_a_local_configuration(tmp_path):
    assert load(overrides=development_settings(tmp_path), environ={}).development


@pytest.mark.parametrize(
    "public_url",
    [
        LOCAL,
        "http://localhost:5000",
        "http://[::1]:8000",
        "http://192.168.1.20:8000",
        "http://0.0.0.0:8000",
    ],
)
def test_development_mode_accepts_a_local_public_url(tmp_path, public_url):
    raw = development_settings(tmp_path)
    raw["server"]["public_url"] = public_url
    assert load(overrides=raw, environ={}).development


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"public_url": "https://verify.example.com"}, "server.public_url"),
        ({"public_url": "http://203.0.113.5"}, "server.public_url"),
        ({"provider": ("twilio", {"auth_token": "real-token"})}, "providers.twilio"),
    ],
)
def test_development_mode_is_refused_with_a_production_configuration(tmp_path, change, named):
    raw = development_settings(tmp_path)
    if "public_url" in change:
        raw["server"]["public_url"] = change["public_url"]
    else:
        name, section = change["provider"]
        raw["providers"][name] = section
    with pytest.raises(ConfigError) as refused:
        load(overrides=raw, environ={})
    message = str(refused.value)
    assert message.startswith("server.mode:")
    assert named in message
    assert 'server.mode = "production"' in message
    assert "\n" not in message


def test_a_disabled_real_provider_does_not_make_a_configuration_production(tmp_path):
    raw = development_settings(tmp_path)
    raw["providers"]["twilio"] = {"enabled": False, "auth_token": "x"}
    assert load(overrides=raw, environ={}).development


def run_cli(cwd: Path, config: Path, *args: str) -> tuple[int, str]:
    """Run the real `reverse-otp` command; return its exit status and standard error.

    A server that starts instead of refusing is stopped, with every process it started
    (the reloader's child, gunicorn's workers), and the test fails.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVERSE_OTP_")}
    env["REVERSE_OTP_CONFIG"] = str(config)
    exe = Path(sys.executable).with_name("reverse-otp")
    process = subprocess.Popen(
        [str(exe), *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )  # fmt: skip
    try:
        _, stderr = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"`reverse-otp {' '.join(args)}` started instead of refusing")
    return process.returncode, stderr


def test_serve_dev_refuses_a_production_configuration(tmp_path):
    raw = base_settings(tmp_path)
    config = write_config(tmp_path / "config.toml", raw)
    status, stderr = run_cli(tmp_path, config, "serve", "--dev", "--port", str(free_port()))
    assert status != 0
    refusal = [line for line in stderr.splitlines() if line.strip()]
    assert len(refusal) == 1, stderr
    assert "--dev" in refusal[0] and 'server.mode = "production"' in refusal[0]


def test_serve_refuses_development_mode_with_a_production_configuration(tmp_path):
    raw = base_settings(tmp_path)
    raw["server"]["mode"] = "development"
    config = write_config(tmp_path / "config.toml", raw)
    status, stderr = run_cli(tmp_path, config, "serve", "--port", str(free_port()))
    assert status != 0
    refusal = [line for line in stderr.splitlines() if line.strip()]
    assert len(refusal) == 1, stderr
    assert "server.mode" in refusal[0] and "providers.twilio" in refusal[0]
