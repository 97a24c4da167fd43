"""Email addresses a challenge may expect (the fallback's email channel): pure helpers.

Addresses are validated at the edge (app/web/schemas.py, with email-validator); here they are
only split, grouped and masked for display and logs.
"""

from __future__ import annotations

# RFC 5321 §4.5.3.1.3: a path is at most 256 octets including "<" and ">".
MAX_LENGTH = 254


def domain(address: str) -> str:
    """Return the domain of an address, lower case ("" when it has none)."""
    return address.rpartition("@")[2].lower()


def mask(address: str | None) -> str | None:
    """Mask an address for display: "jane.doe@example.com" -> "j******e@e******.com"."""
    if not address:
        return None
    local, at, host = address.rpartition("@")
    if not at:
        return "***"
    name, dot, tld = host.rpartition(".")
    shown_host = f"{_hide(name)}.{tld}" if dot else _hide(host)
    return f"{_hide(local)}@{shown_host}"


def _hide(part: str) -> str:
    if len(part) <= 2:
        return "*" * len(part)
    return part[0] + "*" * (len(part) - 2) + part[-1]
