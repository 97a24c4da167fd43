"""SMS provider adapters and the registry that names them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from app.providers.base import Defaults, Provider
from app.providers.simulator import Simulator
from app.providers.twilio import Twilio


class Factory(Protocol):
    def __call__(self, section: Mapping[str, Any], defaults: Defaults) -> Provider: ...


# The single source for routing, settings validation and `reverse-otp providers`.
REGISTRY: dict[str, Factory] = {
    Simulator.name: Simulator.from_settings,
    Twilio.name: Twilio.from_settings,
}
