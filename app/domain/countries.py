"""Country policy and routing by country: pure rules over E.164 numbers.

A number's *country* is its ISO region as phonenumbers reads it (a Guernsey mobile +44 7781
is GG, not GB; +1 613 is CA, not US). A number of a region phonenumbers cannot tell (most
reserved fictional ranges) counts as the main region of its calling code (+44 -> GB).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import phonenumbers

from app.domain import phone

# Line types refused for discovery senders unless configured: they cost the sender money
# per message, which is what SMS-pumping fraud earns from.
DEFAULT_DISCOVERY_TYPES = tuple(
    t for t in phone.NUMBER_TYPES if t not in ("premium_rate", "shared_cost")
)


@functools.lru_cache(maxsize=4096)
def country(e164: str) -> str | None:
    """Return a number's ISO region, else the main region of its calling code (cached: our
    own numbers are looked up for every challenge)."""
    number = phonenumbers.parse(e164)
    found = phonenumbers.region_code_for_number(number)
    if found and found != "001":
        return str(found)
    main = phonenumbers.region_code_for_country_code(number.country_code or 0)
    return None if main in (None, "ZZ", "001") else str(main)


@functools.lru_cache(maxsize=4096)
def calling_code(e164: str) -> int:
    """Return a number's country calling code (+44 -> 44)."""
    return int(phonenumbers.parse(e164).country_code or 0)


@dataclass(frozen=True)
class CountryPolicy:
    """Which countries' phones may be expected or send, and which line types may discover.

    `allowed` empty means every country not `denied`.
    """

    allowed: frozenset[str] = frozenset()
    denied: frozenset[str] = frozenset()
    discovery_types: tuple[str, ...] = DEFAULT_DISCOVERY_TYPES

    def refusal(self, e164: str) -> str | None:
        """Say why a number's country is refused, naming it; None when it is allowed."""
        where = country(e164)
        if where is not None and where in self.denied:
            return f"phone numbers of {where} are refused ([phones] denied_countries)"
        if self.allowed and where not in self.allowed:
            named = where or "this country"
            return f"phone numbers of {named} are not in [phones] allowed_countries"
        return None

    def discovery_type_refused(self, e164: str) -> bool:
        """Whether a sender's line type may not verify a discovery challenge."""
        try:
            phone.check_type(e164, self.discovery_types)
        except phone.InvalidPhone:
            return True
        return False


def choose_number(numbers: list[str], expected: str | None, counter: int) -> str:
    """Pick the virtual number for a challenge, keeping the user's SMS domestic if we can.

    In order: a number of the expected phone's region (GG for a Guernsey mobile); else one of
    its country calling code (+44: a UK number serves Guernsey, Jersey and the Isle of Man;
    +1: a US number serves Canada); else the numbers take turns by `counter`.
    """
    if expected is not None:
        where = country(expected)
        local = [n for n in numbers if where is not None and country(n) == where]
        if not local:
            code = calling_code(expected)
            local = [n for n in numbers if calling_code(n) == code]
        if local:
            return local[counter % len(local)]
    return numbers[counter % len(numbers)]
