"""What the factory builds and the routes read: settings, use-case context, providers."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app

from app.config.schema import Settings
from app.ops.health import Component
from app.providers.guards import Guarded
from app.usecases.context import Context
from app.usecases.dashboard import FunnelSource
from app.usecases.fallback import Fallback

EXTENSION = "reverse_otp"


@dataclass
class Runtime:
    settings: Settings
    ctx: Context
    providers: dict[str, Guarded]
    # What /readyz asks, by name: the factory registers the store and bus; add others here.
    components: dict[str, Component] = field(default_factory=dict)
    # The operator dashboard's reads (app/store/stats.py); None hides the dashboard's data.
    stats: FunnelSource | None = None
    # Codes sent to users ([[senders]]); None: the fallback is off (404 fallback_disabled).
    fallback: Fallback | None = None


def runtime() -> Runtime:
    """Return the running app's runtime."""
    found: Runtime = current_app.extensions[EXTENSION]
    return found
