"""Readiness: components that can say whether they work, and the verdict over all of them.

A component (the store, the event bus, a rate limiter...) takes part by having a `health()`
method and being registered by the factory in `Runtime.components`. `down` means requests
that need it fail, so the instance is not ready (503); `degraded` means it works in a
reduced way (a fallback is in use) and is reported without failing readiness.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

log = logging.getLogger(__name__)

State = Literal["ok", "degraded", "down"]


@dataclass(frozen=True)
class Health:
    """One component's state, with a short reason when it is not ok (no secrets, no URLs)."""

    state: State = "ok"
    detail: str = ""


@runtime_checkable
class Component(Protocol):
    def health(self) -> Health:
        """Check the component quickly (well under a second) and say how it is."""


@dataclass(frozen=True)
class Report:
    ready: bool
    checks: dict[str, Health]

    def as_json(self) -> dict[str, object]:
        """Return the report as the /readyz body."""
        return {
            "status": "ready" if self.ready else "unavailable",
            "checks": {
                name: {"state": h.state, **({"detail": h.detail} if h.detail else {})}
                for name, h in self.checks.items()
            },
        }


def check(components: dict[str, Component]) -> Report:
    """Ask every component; a check that raises counts as down."""
    results: dict[str, Health] = {}
    for name, component in components.items():
        try:
            results[name] = component.health()
        except Exception as exc:
            log.warning("health check failed component=%s error=%s", name, type(exc).__name__)
            results[name] = Health("down", type(exc).__name__)
    return Report(all(h.state != "down" for h in results.values()), results)


class Pingable(Protocol):
    def ping(self) -> None: ...


class StoreHealth:
    """The store is healthy when it answers a trivial query."""

    def __init__(self, store: Pingable) -> None:
        self.store = store

    def health(self) -> Health:
        try:
            self.store.ping()
        except Exception as exc:
            return Health("down", type(exc).__name__)
        return Health()
