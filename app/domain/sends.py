"""Codes sent to the user (the fallback): the send record, the code and its message."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

CODE_LENGTH = 6

# A send's status: "sending" until a sender took it, then what receipts say.
SENDING, SENT, DELIVERED, FAILED = "sending", "sent", "delivered", "failed"
# A later receipt may move a send forward, never back (receipts arrive out of order).
RANK = {SENDING: 0, SENT: 1, DELIVERED: 2, FAILED: 2}


@dataclass(frozen=True)
class Send:
    """One code sent for a challenge."""

    id: str
    challenge_id: str
    seq: int
    sender: str
    channel: str
    country: str
    prefix: str
    code_hash: str
    created_at: datetime
    status: str = SENDING
    provider_id: str | None = None
    detail: str | None = None


def new_code(randbelow: Callable[[int], int], length: int = CODE_LENGTH) -> str:
    """Draw a numeric code (digits only, so phones offer to fill it in); pass
    `secrets.randbelow` outside tests."""
    return "".join(str(randbelow(10)) for _ in range(length))


def message_text(name: str, code: str, public_url: str) -> str:
    """Return the SMS: the code for `name`, ending with the WebOTP line "@host #code".

    The last line lets a browser on the phone read the code for the page at that host
    (https://wicg.github.io/web-otp/#parsing); `autocomplete="one-time-code"` does the rest.
    """
    host = urlsplit(public_url).hostname or "localhost"
    return f"{code} is your {name} verification code.\n\n@{host} #{code}"


def email_subject(name: str) -> str:
    """Return the subject of an emailed code (control characters of the name dropped)."""
    return f"Your {_printable(name)} verification code"


def email_text(name: str, code: str) -> str:
    """Return the body of an emailed code (no WebOTP line: that is for SMS)."""
    return (
        f"{code} is your {_printable(name)} verification code.\n\n"
        "If you did not ask for it, ignore this message.\n"
    )


def _printable(text: str) -> str:
    return "".join(ch for ch in text if ch.isprintable())


def advances(current: str, new: str) -> bool:
    """Tell whether a receipt's status replaces the send's current one."""
    return RANK.get(new, -1) > RANK.get(current, -1)
