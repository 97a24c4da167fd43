"""Links that open the user's messaging app with the SMS ready to send."""

from __future__ import annotations

from urllib.parse import quote


def sms_uri(to: str, body: str) -> str:
    """Return `sms:<to>?&body=<text>`, the form iOS and Android both prefill.

    iOS splits the query on "&" and Android reads "?" then an empty field; the body is UTF-8
    percent-encoded with nothing left unescaped but RFC 3986 unreserved characters, so a
    space is "%20", never "+".
    """
    return f"sms:{to}?&body={quote(body, safe='')}"


def smsto_payload(to: str, body: str) -> str:
    """Return the QR payload `SMSTO:<to>:<text>`; the text is written raw, not encoded."""
    return f"SMSTO:{to}:{body}"
