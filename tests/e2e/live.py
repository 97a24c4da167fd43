"""Helpers for live-status tests against a real server: a raw SSE client, signed simulator
SMS, and which worker process holds a connection (read from /proc, so the server needs no
test-only code to tell)."""

from __future__ import annotations

import json
import os
import re
import socket
import time
from pathlib import Path
from typing import Any

import requests

from app.providers.simulator import HEADER, sign


class SseClient:
    """A bare SSE connection whose local port we know."""

    def __init__(self, base: str, path: str, timeout: float = 10.0) -> None:
        host, port = re.match(r"http://([^:/]+):(\d+)", base).groups()  # type: ignore[union-attr]
        self.server_port = int(port)
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.local_port = self.sock.getsockname()[1]
        request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n"
        self.sock.sendall(request.encode())
        self.buffer = b""
        head = self._until(b"\r\n\r\n")
        self.status = int(head.split(b" ", 2)[1])

    def _until(self, marker: bytes) -> bytes:
        while marker not in self.buffer:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("stream closed")
            self.buffer += data
        head, self.buffer = self.buffer.split(marker, 1)
        return head

    def next_event(self) -> tuple[str, dict[str, Any]]:
        """Return the next (event name, data), skipping comments, hints and chunk sizes."""
        while True:
            block = self._until(b"\n\n").decode()
            fields = dict(
                line.split(": ", 1)
                for line in block.splitlines()
                if line.startswith(("event", "data"))
            )
            if "event" in fields:
                return fields["event"], json.loads(fields["data"])

    def close(self) -> None:
        self.sock.close()


def signed_sms(
    secret: str, to: str, text: str, sender: str = "+33612345678"
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"from": sender, "to": to, "text": text, "id": os.urandom(8).hex()}).encode()
    return body, {"Content-Type": "application/json", HEADER: sign(secret, body)}


def create(base: str, api_key: str, **body: Any) -> dict[str, Any]:
    answer = requests.post(
        base + "/api/v1/challenges",
        json=body,
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=10,
    )
    answer.raise_for_status()
    result: dict[str, Any] = answer.json()
    return result


def server_pids(port: int) -> list[int]:
    """Return the pids of the processes serving `port` (master and workers)."""
    marker = f"--port\0{port}\0".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_bytes() + b"\0":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def owner(server_port: int, client_port: int, timeout: float = 5.0) -> int:
    """Return the pid of the worker holding the server side of a client connection."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        inode = _server_inode(server_port, client_port)
        if inode:
            for pid in server_pids(server_port):
                if _holds(pid, inode):
                    return pid
        time.sleep(0.05)
    raise LookupError(f"no worker holds the connection from port {client_port}")


def _server_inode(server_port: int, client_port: int) -> str | None:
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            parts = line.split()
            local, remote, inode = parts[1], parts[2], parts[9]
            if (
                int(local.rsplit(":", 1)[1], 16) == server_port
                and int(remote.rsplit(":", 1)[1], 16) == client_port
            ) and inode != "0":
                return inode
    return None


def _holds(pid: int, inode: str) -> bool:
    target = f"socket:[{inode}]"
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(fd) == target:
                return True
        except OSError:
            continue
    return False


class RawPost:
    """A connection opened first (so we can see which worker took it), used for one POST."""

    def __init__(self, base: str) -> None:
        host, port = re.match(r"http://([^:/]+):(\d+)", base).groups()  # type: ignore[union-attr]
        self.host = host
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        self.local_port = self.sock.getsockname()[1]

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        lines = [
            f"POST {path} HTTP/1.1",
            f"Host: {self.host}",
            f"Content-Length: {len(body)}",
            "Connection: close",
        ]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        data = b""
        while chunk := self.sock.recv(65536):
            data += chunk
        return int(data.split(b" ", 2)[1]), data.split(b"\r\n\r\n", 1)[1]

    def close(self) -> None:
        self.sock.close()
