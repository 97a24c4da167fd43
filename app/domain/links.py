"""Links that open the user's messaging app (SMS or WhatsApp) with the message ready to send."""

from __future__ import annotations

from urllib.parse import quote


def sms_uri(to: str, body: str) -> str:
    """Return `sms:<to>?&body=<text>`, the form iOS and Android both prefill.

    iOS splits the query on "&" and Android reads "?" then an empty field; the body is UTF-8
    percent-encoded with nothing left unescaped but RFC 3986 unreserved characters, so a
    space is "%20", never "+".
    """
    return f"sms:{to}?&body={quote(body, safe='')}"


def whatsapp_uri(to: str, body: str) -> str:
    """Return `https://wa.me/<digits>?text=<text>`, which opens a WhatsApp chat prefilled.

    wa.me takes the number as digits only (no plus, no separators); the text is encoded as
    in `sms_uri` (a space is "%20").
    """
    digits = "".join(ch for ch in to if ch.isdigit())
    return f"https://wa.me/{digits}?text={quote(body, safe='')}"


def smsto_payload(to: str, body: str) -> str:
    """Return the QR payload `SMSTO:<to>:<text>`; the text is written raw, not encoded."""
    return f"SMSTO:{to}:{body}"
