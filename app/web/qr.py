"""QR codes of SMSTO payloads, as SVG or PNG."""

from __future__ import annotations

import io

import qrcode
from qrcode.image.pure import PyPNGImage
from qrcode.image.svg import SvgPathImage


def render(payload: str, fmt: str) -> bytes:
    """Return the QR code of a payload; `fmt` is "svg" or "png"."""
    factory = SvgPathImage if fmt == "svg" else PyPNGImage
    image = qrcode.make(payload, image_factory=factory, box_size=10, border=4)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()
