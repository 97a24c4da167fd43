"""The observation port: what the code reports for metrics, whatever collects it.

Services, routes and workers call these methods on `Context.observer`; the factory plugs in
Prometheus (app/ops/metrics.py), tests and scripts may keep the silent `NullObserver`. Labels are
the stable words the domain already uses (statuses, outcomes, rejection reasons), so the set
of label values stays small. Nothing here may raise into the caller.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class Observer(Protocol):
    def challenge_created(self) -> None:
        """A challenge was created (after commit)."""

    def challenge_ended(self, status: str) -> None:
        """A challenge reached a final status (verified, failed, expired, cancelled)."""

    def verified_after(self, seconds: float) -> None:
        """A challenge was verified this many seconds after its creation."""

    def code_checked(self, method: str, outcome: str) -> None:
        """A code was presented to /check: `verified`, `wrong_code` or `refused` (method
        `none`), by the method of the source that covered it (`test`, ...)."""

    def inbound_recorded(self, provider: str, outcome: str) -> None:
        """An inbound message was decided (its Outcome word, `duplicate` for redeliveries)."""

    def webhook_rejected(self, provider: str, reason: str) -> None:
        """A webhook request was refused before storing (a Rejected reason, or `malformed`)."""

    def stream_opened(self) -> None:
        """A live status stream (SSE) opened; call `stream_closed` when it ends."""

    def stream_closed(self) -> None:
        """A live status stream (SSE) ended."""

    def callback_delivery(self, outcome: str) -> None:
        """A callback delivery attempt ended: `delivered`, `failed` (will retry), `abandoned`."""

    def callback_retry(self) -> None:
        """A callback delivery was scheduled again after a failure."""


class NullObserver:
    """Observes nothing: the harmless default."""

    def challenge_created(self) -> None:
        pass

    def challenge_ended(self, status: str) -> None:
        pass

    def verified_after(self, seconds: float) -> None:
        pass

    def code_checked(self, method: str, outcome: str) -> None:
        pass

    def inbound_recorded(self, provider: str, outcome: str) -> None:
        pass

    def webhook_rejected(self, provider: str, reason: str) -> None:
        pass

    def stream_opened(self) -> None:
        pass

    def stream_closed(self) -> None:
        pass

    def callback_delivery(self, outcome: str) -> None:
        pass

    def callback_retry(self) -> None:
        pass


@contextmanager
def open_stream(observer: Observer) -> Iterator[None]:
    """Count a live stream as open for the duration of the block."""
    observer.stream_opened()
    try:
        yield
    finally:
        observer.stream_closed()
