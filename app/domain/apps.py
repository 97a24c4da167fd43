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
    # The secret replaced by the last rotation; callbacks carry its signature too until
    # `old_secret_until`, so receivers can switch without missing an event.
    old_callback_secret: str | None = None
    old_secret_until: datetime | None = None
    # Origins (https://host[:port]) its challenges' return_url may lead to.
    return_origins: tuple[str, ...] = ()

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def signing_secrets(self, now: datetime) -> list[str]:
        """Return the secrets to sign with now: the current one, then the old one in grace."""
        found = [self.callback_secret] if self.callback_secret else []
        until = self.old_secret_until
        if self.old_callback_secret and until is not None and now < until:
            found.append(self.old_callback_secret)
        return found

    def owns(self, app_id: str | None) -> bool:
        """Tell whether a challenge recorded with `app_id` belongs to this app."""
        return (app_id or DEFAULT_APP_ID) == self.id
