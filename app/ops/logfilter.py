"""A safety net under the logs: redact secrets, full phone numbers and email addresses from
every record.

The code never hands a code, token, API key, signature, full phone number or email address
to a logger;
this filter catches what slips through anyway (a library's message, an exception text, a
request line). It is installed as a log-record factory, so it applies to every logger and
handler in the process, including ones added later. A record it had to change is marked
`redacted = True`, which the tests use to prove that nothing was passed in the first place.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

# (pattern, replacement), applied in order.
RULES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str] | str]] = [
    # PEM private keys (proof signing keys), whole or cut short.
    (
        re.compile(
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"
        ),
        "[private-key]",
    ),
    # Compact JWS/JWT (proofs): their payload holds a full phone number.
    (re.compile(r"\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+"), "[jws]"),
    # Status tokens travel in paths: /api/v1/status/<token>, /s/<token>, /status/<token>/qr.svg
    (re.compile(r"(/(?:status|s|verify|v|events)/)[A-Za-z0-9_\-]{16,}"), r"\1[token]"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[^\s,;\"']+"), r"\1 [redacted]"),
    (re.compile(r"\brotp_[A-Za-z0-9_\-]{8,}"), "[api-key]"),
    (
        re.compile(
            r"(?i)\b((?:x-[a-z\-]*)?signature[a-z\-]*|auth_token|secret|password|token|code|"
            r"api_key|key)(\"?\s*[:=]\s*\"?)([^\s&,;\"']+)"
        ),
        r"\1\2[redacted]",
    ),
    # Email addresses (expected addresses are personal data), also with a URL-encoded @.
    (
        re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"),
        "[email]",
    ),
    # E.164 numbers, also URL-encoded (%2B); keep the country code and last two digits.
    (re.compile(r"(\+|%2[Bb])(\d{1,3})(\d{4,12})(\d{2})\b"), r"\1\2*****\4"),
]

_installed: list[bool] = []


def redact(text: str) -> str:
    """Return the text with secrets and full phone numbers replaced."""
    for pattern, replacement in RULES:
        text = pattern.sub(replacement, text)
    return text


def install() -> None:
    """Wrap the process's log-record factory with redaction (once)."""
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed call; let logging report it as usual
            return record
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
            record.redacted = True
        return record

    logging.setLogRecordFactory(factory)
    _installed.append(True)
