"""Apps: the integrators that hold API keys, own challenges and receive callbacks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# The app built from the settings file ([api] keys, [callbacks] url and secret); it owns
# challenges created with configured keys and those stored before apps existed.
DEFAULT_APP_ID = "default"


@dataclass(frozen=True)
class App:
    """One integrator and its settings."""

    id: str
    name: str
    callback_url: str | None = None
    callback_secret: str | None = None
    full_phone: bool = False
    numbers: tuple[str, ...] = ()
    ttl: int | None = None
    created_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def owns(self, app_id: str | None) -> bool:
        """Tell whether a challenge recorded with `app_id` belongs to this app."""
        return (app_id or DEFAULT_APP_ID) == self.id
