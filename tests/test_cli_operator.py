"""The operator's command line, run as the real `reverse-otp` process: one line per problem."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

EXE = Path(sys.executable).with_name("reverse-otp")
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432"


def production_config(folder: Path, database_url: str) -> Path:
    path = folder / "config.toml"
    path.write_text(
        "[server]\n"
        'public_url = "https://verify.reverse-otp.test"\n'
        f'secret_key = "{secrets.token_urlsafe(48)}"\n'
        "[database]\n"
        f'url = "{database_url}"\n'
        "[[numbers]]\n"
        'number = "+14155550100"\n'
        'provider = "twilio"\n'
        "[providers.twilio]\n"
        f'auth_token = "{secrets.token_hex(16)}"\n'
    )
    return path


def cli(
    folder: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("REVERSE_OTP_")}
    return subprocess.run(
        [str(EXE), *args],
        cwd=folder,
        env=environ | (env or {}),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0, done.stdout
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    if lines and lines[0].startswith("instance folder: "):
        lines = lines[1:]  # said by every command once its settings are read, before the work
    assert len(lines) == 1, done.stderr
    return lines[0]


def postgres_available() -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
    except OSError:
        return False
    return True


needs_postgres = pytest.mark.skipif(not postgres_available(), reason="no PostgreSQL")


@pytest.mark.parametrize(
    ("url", "fix"),
    [
        ("postgres://postgres@127.0.0.1:5432/x", "postgresql+psycopg://"),
        ("postgresql://postgres@127.0.0.1:5432/x", "postgresql+psycopg://"),
        ("/var/lib/reverse-otp/reverse-otp.db", "sqlite:///"),
        ("mysql://root@127.0.0.1/x", "postgresql+psycopg://"),
    ],
)
def test_a_database_url_with_the_wrong_scheme_is_one_line_naming_the_fix(tmp_path, url, fix):
    config = production_config(tmp_path, url)
    line = one_line(cli(tmp_path, "db", "upgrade", env={"REVERSE_OTP_CONFIG": str(config)}))
    assert line.startswith("Error: database.url: ")
    assert fix in line


def test_a_sqlite_file_in_a_missing_folder_is_one_line_naming_the_folder(tmp_path):
    missing = tmp_path / "nowhere"
    config = production_config(tmp_path, f"sqlite:///{missing / 'x.db'}")
    line = one_line(cli(tmp_path, "db", "upgrade", env={"REVERSE_OTP_CONFIG": str(config)}))
    assert line.startswith("Error: database.url: ")
    assert str(missing) in line


def test_a_missing_postgresql_driver_names_the_pip_extra(tmp_path):
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "psycopg.py").write_text("raise ImportError(\"No module named 'psycopg'\")\n")
    config = production_config(tmp_path, f"{POSTGRES}/x")
    path = os.pathsep.join(p for p in [str(shim), os.environ.get("PYTHONPATH", "")] if p)
    env = {"REVERSE_OTP_CONFIG": str(config), "PYTHONPATH": path}
    line = one_line(cli(tmp_path, "db", "upgrade", env=env))
    assert line.startswith("Error: database.url: ")
    assert "reverse-otp[postgres]" in line


@needs_postgres
@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgresql+psycopg://postgres@127.0.0.1:1/x", "port 1"),
        (f"{POSTGRES}/reverse_otp_no_such_database", "does not exist"),
    ],
)
@pytest.mark.parametrize("command", [("db", "upgrade"), ("create-api-key",)])
def test_an_unreachable_database_is_one_line_not_a_traceback(tmp_path, url, says, command):
    config = production_config(tmp_path, url)
    line = one_line(cli(tmp_path, *command, env={"REVERSE_OTP_CONFIG": str(config)}))
    assert line.startswith("Error: database.url: cannot connect")
    assert says in line


@needs_postgres
def test_serve_with_an_unreachable_database_is_one_line(tmp_path):
    config = production_config(tmp_path, "postgresql+psycopg://postgres@127.0.0.1:1/x")
    done = cli(tmp_path, "serve", "--port", "1", env={"REVERSE_OTP_CONFIG": str(config)})
    assert one_line(done).startswith("Error: database.url: cannot connect")


def test_serve_on_a_port_in_use_says_so_once_and_suggests_another(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = cli(tmp_path, "serve", "--port", str(port), timeout=30)
    line = one_line(done)
    assert f"port {port}" in line
    assert "--port" in line


def test_development_public_url_follows_the_address_served(tmp_path):
    from app import config

    dev = config.load(overrides={"server": {"instance_dir": str(tmp_path)}}, environ={})
    assert config.for_address(dev, "127.0.0.1", 8765).server.public_url == "http://127.0.0.1:8765"
    assert config.for_address(dev, "0.0.0.0", 8765).server.public_url == "http://127.0.0.1:8765"
    assert config.for_address(dev, "::", 8765).server.public_url == "http://[::1]:8765"
    chosen = {"server": {"instance_dir": str(tmp_path), "public_url": "http://192.168.1.5:9000"}}
    explicit = config.load(overrides=chosen, environ={})
    assert (
        config.for_address(explicit, "127.0.0.1", 8765).server.public_url
        == "http://192.168.1.5:9000"
    )


def test_production_warns_when_a_local_public_url_names_another_port(tmp_path):
    from app import config
    from tests.conftest import base_settings

    raw = base_settings(tmp_path)
    raw["server"]["public_url"] = "http://127.0.0.1:8000"
    settings = config.load(overrides=raw, environ={})
    assert config.for_address(settings, "127.0.0.1", 8765) is settings
    assert "port 8765" in (config.port_mismatch(settings, 8765) or "")
    assert config.port_mismatch(settings, 8000) is None
    raw["server"]["public_url"] = "https://verify.reverse-otp.test"
    assert config.port_mismatch(config.load(overrides=raw, environ={}), 8765) is None


def test_development_relaxes_creation_limits_but_production_keeps_them(tmp_path):
    from app import config
    from app.config import sections
    from tests.conftest import base_settings

    dev = config.load(overrides={"server": {"instance_dir": str(tmp_path)}}, environ={})
    assert dev.limits.per_phone == "100/hour"
    chosen = {"server": {"instance_dir": str(tmp_path)}, "limits": {"per_phone": "2/hour"}}
    assert config.load(overrides=chosen, environ={}).limits.per_phone == "2/hour"
    production = config.load(overrides=base_settings(tmp_path), environ={})
    assert production.limits.per_phone == sections.Limits().per_phone == "5/hour"


def test_version_prints_the_package_version(tmp_path):
    from importlib.metadata import version

    done = cli(tmp_path, "--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"reverse-otp, version {version('reverse-otp')}"


def test_create_api_key_prints_only_the_key_and_logs_no_migrations(tmp_path):
    env = {"REVERSE_OTP_SERVER__INSTANCE_PATH": str(tmp_path / "instance")}
    cli(tmp_path, "db", "upgrade", env=env)
    done = cli(tmp_path, "create-api-key", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("rotp_")
    assert len(done.stdout.strip().splitlines()) == 1
    assert "alembic" not in done.stderr
    assert "upgraded" not in done.stderr
    verbose = cli(tmp_path, "-v", "db", "upgrade", env=env)
    assert verbose.returncode == 0


def test_apps_list_with_no_apps_says_so(tmp_path):
    env = {"REVERSE_OTP_SERVER__INSTANCE_PATH": str(tmp_path / "instance")}
    done = cli(tmp_path, "apps", "list", env=env)
    assert done.returncode == 0, done.stderr
    assert "no apps yet" in done.stdout
