"""Which of an app's numbers a new challenge uses, and the channels it is offered on."""

from __future__ import annotations

from app.domain import challenges as rules
from app.domain import countries
from app.domain.apps import App
from app.usecases.context import Context, Policy, ServiceError, Unavailable


def choose(
    ctx: Context, app: App, expected: str | None, channels: list[str] | None
) -> tuple[str, tuple[str, ...]]:
    """Return the number a new challenge uses and the channels it is offered on."""
    policy = ctx.policy
    numbers = [n for n in policy.numbers if not app.numbers or n in app.numbers]
    if not numbers:
        raise Unavailable("no_number", "none of this app's numbers is configured")
    wanted = wanted_channels(policy, numbers, channels)
    numbers = offering(policy, numbers, wanted)
    number = countries.choose_number(numbers, expected, ctx.next_turn())
    return number, tuple(c for c in policy.channels_of(number) if c in wanted)


def wanted_channels(policy: Policy, numbers: list[str], asked: list[str] | None) -> set[str]:
    """Return the channels asked for (default: all the numbers receive), or raise naming one
    that is unknown or that none of the numbers receives."""
    received = {c for n in numbers for c in policy.channels_of(n)}
    if asked is None:
        return received
    if not asked:
        raise ServiceError("invalid_channels", "channels: list at least one channel")
    for channel in asked:
        if channel not in rules.CHANNELS:
            known = ", ".join(rules.CHANNELS)
            raise ServiceError("unknown_channel", f"unknown channel {channel!r}; known: {known}")
    for channel in asked:
        if channel not in received:
            raise ServiceError(
                "unavailable_channel", f"no number of this app receives channel {channel!r}"
            )
    return set(asked)


def offering(policy: Policy, numbers: list[str], wanted: set[str]) -> list[str]:
    """Return the numbers receiving every wanted channel, else those receiving any."""
    every = [n for n in numbers if wanted <= set(policy.channels_of(n))]
    return every or [n for n in numbers if wanted & set(policy.channels_of(n))]
