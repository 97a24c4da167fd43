"""What the factory builds and the routes read: settings, services context, providers."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from app.config import Settings
from app.providers.base import Provider
from app.services import Context

EXTENSION = "reverse_otp"


@dataclass
class Runtime:
    settings: Settings
    ctx: Context
    providers: dict[str, Provider]


def runtime() -> Runtime:
    """Return the running app's runtime."""
    found: Runtime = current_app.extensions[EXTENSION]
    return found
