"""The event bus port and the events it carries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class StatusChanged:
    """A challenge's status changed; published only after the change is committed."""

    challenge_id: str
    status: str


Handler = Callable[[StatusChanged], None]


class EventBus(Protocol):
    def publish(self, event: StatusChanged) -> None:
        """Deliver to every subscriber of the challenge, in this process or beyond."""

    def subscribe(self, challenge_id: str, handler: Handler) -> Callable[[], None]:
        """Call `handler` for the challenge's events; return a function that unsubscribes."""


class FinalStatuses(Protocol):
    """What the buses read of the store: enough to poll for changes made elsewhere."""

    def final_statuses(self, challenge_ids: list[str]) -> dict[str, str]:
        """Return the statuses of those challenges that are no longer pending."""
