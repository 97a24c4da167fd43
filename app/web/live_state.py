"""Per-process state of the live features (stream and demo limits)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from app.events.limits import RateLimit, StreamLimits

EXTENSION = "reverse_otp_live"


@dataclass
class Live:
    """Per-process state of the live features."""

    streams: StreamLimits
    demo: RateLimit


def live_state() -> Live:
    found: Live = current_app.extensions[EXTENSION]
    return found
