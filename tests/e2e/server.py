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
    environ = {k: v for k, v in os.environ.items() if not k.startswith("REVERSE_OTP_")}
    environ |= env or {}
    if config is not None:
        environ["REVERSE_OTP_CONFIG"] = str(config)
    elif own_instance:
        environ.setdefault(INSTANCE_VARIABLE, str(cwd / "instance"))
    exe = Path(sys.executable).with_name("reverse-otp")
    command = [str(exe), "serve", "--port", str(port), "--workers", str(workers)]
    log = (cwd / f"server-{port}.log").open("wb")
    process = subprocess.Popen(command, cwd=cwd, env=environ, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, process, timeout)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_ready(base: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            requests.get(base + "/api/v1/status/none", timeout=1)
            return
        except (requests.ConnectionError, requests.Timeout):  # a worker still booting
            time.sleep(0.1)
    raise RuntimeError("server did not start in time")
