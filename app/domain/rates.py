"""Rates such as "10/hour": how many events a window of time allows."""

from __future__ import annotations

from dataclasses import dataclass

UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Rate:
    """At most `count` events per `seconds`; a count of 0 turns the limit off."""

    count: int
    seconds: int

    @property
    def off(self) -> bool:
        return self.count == 0


def parse(text: str) -> Rate:
    """Read "N/unit" or "N/S seconds" ("10/hour", "5/600"); raise ValueError naming the form."""
    count_text, _, per = text.strip().partition("/")
    per = per.strip().lower()
    if per.endswith("s") and per[:-1] in UNITS:
        per = per[:-1]
    try:
        count = int(count_text)
        seconds = UNITS[per] if per in UNITS else int(per)
    except ValueError:
        raise ValueError(
            f"rate {text!r}: write N/unit (second, minute, hour, day) or N/seconds"
        ) from None
    if count < 0 or seconds < 1:
        raise ValueError(f"rate {text!r}: count must be >= 0 and the window >= 1 second")
    return Rate(count, seconds)
