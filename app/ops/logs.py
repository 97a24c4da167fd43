"""Logs as one JSON object per line, each carrying the request id of the request it serves.

The request id comes from a well-formed incoming X-Request-ID (a proxy's), else is made
here; it is echoed in the answer. Paths are logged with their secret segments masked
(`/status/<token>`, `/v/<token>`, `/s/<token>`, `/verify/<token>`,
`/webhooks/<provider>/<token>`) and never with a query string.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
import sys
from datetime import UTC, datetime
from typing import Any

REQUEST_ID_HEADER = "X-Request-ID"
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{8,128}")
_SECRET_SEGMENT = re.compile(r"(/(?:status|s|verify|v)/|/webhooks/[^/]+/)[^/]+")
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


def mask_path(path: str) -> str:
    """Return a path with the token segments replaced by `***`."""
    return _SECRET_SEGMENT.sub(r"\1***", path)


def accept_request_id(incoming: str | None) -> str:
    """Return the incoming id when well-formed, else a new random one."""
    if incoming and _WELL_FORMED.fullmatch(incoming):
        return incoming
    return secrets.token_hex(12)


def bind_request_id(request_id: str | None) -> contextvars.Token[str | None]:
    """Make `request_id` the id of the logs written from here on in this context."""
    return _request_id.set(request_id)


def unbind_request_id(token: contextvars.Token[str | None]) -> None:
    _request_id.reset(token)


def current_request_id() -> str | None:
    return _request_id.get()


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id, extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id()
        if request_id:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure(level: str = "INFO") -> None:
    """Send the root logger's records to stderr as JSON lines (once per process)."""
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)
