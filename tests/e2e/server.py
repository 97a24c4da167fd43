"""Start the real server process (gunicorn through `reverse-otp serve`) on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

INSTANCE_VARIABLE = "REVERSE_OTP_SERVER__INSTANCE_DIR"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def write_config(path: Path, settings: dict[str, Any]) -> Path:
    """Write settings as TOML (the subset this project's settings need)."""
    lines: list[str] = []
    tables = {k: v for k, v in settings.items() if isinstance(v, dict) and k != "providers"}
    for name, values in tables.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {_toml(v)}" for k, v in values.items()]
    for name, values in settings.get("providers", {}).items():
        lines.append(f"[providers.{name}]")
        lines += [f"{k} = {_toml(v)}" for k, v in values.items()]
    for table in ("numbers", "test_numbers"):
        for entry in settings.get(table, []):
            lines.append(f"[[{table}]]")
            lines += [f"{k} = {_toml(v)}" for k, v in entry.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


@contextmanager
def launched(
    command: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    port: int,
    log: Path,
    ready_path: str = "/api/v1/status/none",
    timeout: float = 20.0,
    stop_timeout: float = 15.0,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server command, its output in `log`, until the block ends; yield its process once
    `ready_path` on `port` answers. The end-to-end tests and bench/run.py start servers here."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_ready(f"http://127.0.0.1:{port}", process, timeout, ready_path)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=stop_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_ready(
    base: str, process: subprocess.Popen[bytes], timeout: float, path: str = "/api/v1/status/none"
) -> None:
    """Return once `path` answers (any status); raise if the process exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server {base} exited with {process.returncode}")
        try:
            requests.get(base + path, timeout=1)
            return
        except (requests.ConnectionError, requests.Timeout):  # a worker still booting
            time.sleep(0.1)
    raise RuntimeError(f"server {base} did not start in time")


def server_environ(config: Path | None = None, **extra: str) -> dict[str, str]:
    """This process's environment without REVERSE_OTP_* settings, then `config` and `extra`."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("REVERSE_OTP_")}
    if config is not None:
        environ["REVERSE_OTP_CONFIG"] = str(config)
    return environ | extra


@contextmanager
def running_server(
    cwd: Path,
    config: Path | None = None,
    port: int | None = None,
    workers: int = 2,
    env: dict[str, str] | None = None,
    timeout: float = 20.0,
    own_instance: bool = True,
) -> Iterator[str]:
    """Run `reverse-otp serve` until the block ends; yield its base URL.

    With no settings file the server's instance folder is the checkout's; unless
    own_instance is False, it is `instance` in cwd instead, so a test keeps its own.
    """
    port = port or free_port()
    environ = server_environ() | (env or {})
    if config is not None:
        environ["REVERSE_OTP_CONFIG"] = str(config)
    elif own_instance:
        environ.setdefault(INSTANCE_VARIABLE, str(cwd / "instance"))
    exe = Path(sys.executable).with_name("reverse-otp")
    command = [str(exe), "serve", "--port", str(port), "--workers", str(workers)]
    log = cwd / f"server-{port}.log"
    with launched(command, cwd=cwd, env=environ, port=port, log=log, timeout=timeout):
        yield f"http://127.0.0.1:{port}"
