"""Shared fixtures: settings on a fresh database, a fake clock, the app and its client.

The database is a temporary SQLite file, or PostgreSQL when REVERSE_OTP_TEST_DATABASE_URL
names one (its tables are emptied before each test). Tests never sleep: time moves by
advancing the FakeClock.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from app import create_app
from app.clock import FakeClock
from app.config import load
from app.config.schema import Settings
from app.runtime import EXTENSION, Runtime
from app.store import migrate
from app.store.tables import metadata
from app.usecases import context
from tests.engines import empty

TEST_DB = os.environ.get("REVERSE_OTP_TEST_DATABASE_URL", "")
SECRET = "test-secret-key-that-is-long-enough-for-production-0123"
SIM_SECRET = "simulator-test-secret"
TWILIO_TOKEN = "12345"
NUMBER = "+15017122661"
TWILIO_NUMBER = "+14155550100"
PUBLIC_URL = "https://verify.reverse-otp.test"


_rebuilt: list[bool] = []


def database_url(tmp_path: Path) -> str:
    """Return the test database URL, emptied: PostgreSQL if configured, else a new SQLite file."""
    if not TEST_DB:
        return f"sqlite:///{tmp_path / 'test.db'}"
    engine = create_engine(TEST_DB)
    if not _rebuilt:
        # Once per run: a database kept from an older run may be at another schema; start
        # it again from nothing and let the migrations build it.
        metadata.drop_all(engine)
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        _rebuilt.append(True)
    migrate.upgrade(engine)
    empty(engine)
    engine.dispose()
    return TEST_DB


def base_settings(tmp_path: Path, **sections: Any) -> dict[str, Any]:
    """Production-mode settings with the simulator and Twilio on two numbers."""
    raw: dict[str, Any] = {
        "server": {
            "mode": "production",
            "public_url": PUBLIC_URL,
            "secret_key": SECRET,
            "instance_dir": str(tmp_path / "instance"),
            # The simulator stands in for real providers in tests; production refuses it.
            "unsafe_allow_simulator": True,
        },
        "database": {"url": database_url(tmp_path)},
        "api": {"keys": ["test-api-key-0123456789-abcdefghijk"]},
        "numbers": [
            {"number": NUMBER, "provider": "simulator"},
            {"number": TWILIO_NUMBER, "provider": "twilio"},
        ],
        "providers": {
            "simulator": {"secret": SIM_SECRET},
            "twilio": {"auth_token": TWILIO_TOKEN},
        },
    }
    for name, values in sections.items():
        if isinstance(values, dict) and isinstance(raw.get(name), dict):
            raw[name] = raw[name] | values
        else:
            raw[name] = values
    return raw


def development_settings(tmp_path: Path, **sections: Any) -> dict[str, Any]:
    """Development-mode settings: a local public URL and the simulator as the only provider
    (development mode is refused with a production configuration)."""
    raw = base_settings(tmp_path, **sections)
    raw["server"] = raw["server"] | {"mode": "development", "public_url": "http://127.0.0.1:8000"}
    raw["server"].pop("unsafe_allow_simulator", None)
    raw["numbers"] = [n for n in raw["numbers"] if n["provider"] == "simulator"]
    raw["providers"] = {"simulator": raw["providers"]["simulator"]}
    return raw


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module to change settings sections for `app`."""
    return {}


@pytest.fixture
def settings(tmp_path: Path, settings_overrides: dict[str, Any]) -> Settings:
    return load(overrides=base_settings(tmp_path, **settings_overrides), environ={})


@pytest.fixture
def app(settings: Settings, clock: FakeClock) -> Iterator[Flask]:
    application = create_app(settings, clock=clock)
    yield application
    runtime(application).ctx.store.dispose()  # type: ignore[attr-defined]


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def ctx(app: Flask) -> context.Context:
    return runtime(app).ctx


def runtime(app: Flask) -> Runtime:
    found: Runtime = app.extensions[EXTENSION]
    return found


API_KEY = "test-api-key-0123456789-abcdefghijk"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture
def own_redis(tmp_path):
    """A Redis server of this test's own, which the test may stop and start again."""
    import shutil
    import subprocess
    import time

    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
    ]
    command += ["--dir", str(tmp_path)]
    url = f"redis://127.0.0.1:{port}/0"
    processes = []

    def start():
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(process)
        client = redis.Redis.from_url(url)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.RedisError:
                time.sleep(0.05)
        client.close()

    def stop():
        processes[-1].terminate()
        processes[-1].wait(timeout=10)

    start()
    yield url, start, stop
    for process in processes:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
