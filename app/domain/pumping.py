"""Guards against SMS pumping for outbound one-time codes: which sends are allowed.

Sending a code costs money per message, and a fraudster who can make us send to numbers
whose termination fees they share (premium ranges, inflated routes) earns from each one.
Every send is therefore screened, in this fixed order (the first rule that applies wins):

1. the number cannot be read: `invalid_phone`;
2. its country is not in `[fallback] allowed_countries`: `country_not_allowed` (the list is
   required; an empty list allows nothing);
3. its line type is premium-rate, shared-cost or unknown (phonenumbers' number_type), or any
   other type not configured as sendable: `line_type_refused`;
4. the breaker of its prefix or its country is open: `breaker_open`;
5. a cap is full, checked per phone, per prefix, per country (each per hour and per day), then
   the daily budget of messages over every destination: `cap_<name>`.

A code sent by email (to a challenge's expected address) skips 1 to 4, which are about
phone numbers and their termination fees: it is charged to per-address caps (the
`per_phone` rates), per-domain caps (`per_domain`) and the same daily budget.

Steps 1 to 3 are pure (`screen`); the counters behind 4 and 5 live in app/limits/sends.py,
which asks this module which counters a destination has (`caps`) and whether a breaker's
counts trip it (`tripped`).

The breaker follows the conversion-rate pattern of Twilio's Fraud Guard: pumped numbers
receive codes but never verify. Over a window, a prefix (or country) with at least
`breaker_min_sent` sends whose verified/sent ratio is under `breaker_ratio` stops receiving
codes for `breaker_cooloff` seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

from app.domain.rates import Rate

# Line types no code is ever sent to, whatever the settings say: premium-rate and
# shared-cost numbers bill the sender for the terminating party's benefit, and a number of
# unknown type may be either.
NEVER_SENT = frozenset(
    {PhoneNumberType.PREMIUM_RATE, PhoneNumberType.SHARED_COST, PhoneNumberType.UNKNOWN}
)
SENDABLE_TYPES = frozenset(
    {
        PhoneNumberType.MOBILE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }
)


# Refusals about where a code would go (the API answers 403); the others are about how many.
FORBIDDEN = frozenset({"country_not_allowed", "line_type_refused"})


@dataclass(frozen=True)
class Destination:
    """Where a code would go: the number and the groups the guards count it in."""

    e164: str
    country: str  # ISO 3166-1 alpha-2 region, upper case
    prefix: str  # "+" country calling code and the next `prefix_digits` digits
    line_type: int
    channel: str = "sms"  # "email": e164 holds the address, prefix "@" and its domain


@dataclass(frozen=True)
class GuardRules:
    """The pumping guards' settings, read once (defaults: docs/fallback.md)."""

    allowed_countries: frozenset[str] = frozenset()
    prefix_digits: int = 3
    per_phone: tuple[Rate, ...] = (Rate(3, 3600), Rate(6, 86400))
    per_prefix: tuple[Rate, ...] = (Rate(20, 3600), Rate(100, 86400))
    per_country: tuple[Rate, ...] = (Rate(200, 3600), Rate(1000, 86400))
    per_domain: tuple[Rate, ...] = (Rate(200, 3600), Rate(1000, 86400))
    daily_budget: int = 2000
    breaker_window: int = 3600
    breaker_min_sent: int = 20
    breaker_ratio: float = 0.2
    breaker_cooloff: int = 3600
    sendable_types: frozenset[int] = field(default_factory=lambda: SENDABLE_TYPES)


@dataclass(frozen=True)
class Cap:
    """One counter a send is charged to: its name (metric and refusal word), key and rate."""

    name: str
    key: str
    rate: Rate


class Refused(ValueError):
    """A send the guards refuse; `reason` is a stable word for the API, logs and metrics."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def destination(e164: str, prefix_digits: int) -> Destination:
    """Return the destination of an E.164 number; raise Refused("invalid_phone") if unread."""
    try:
        number = phonenumbers.parse(e164)
    except NumberParseException:
        raise Refused("invalid_phone", "the phone number cannot be read") from None
    if not phonenumbers.is_valid_number(number):
        raise Refused("invalid_phone", "the phone number is not valid")
    national = phonenumbers.national_significant_number(number)
    region = phonenumbers.region_code_for_number(number) or ""
    return Destination(
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        country=region.upper(),
        prefix=f"+{number.country_code}{national[:prefix_digits]}",
        line_type=phonenumbers.number_type(number),
    )


def email_destination(address: str) -> Destination:
    """Return the destination of an email address (validated at the edge)."""
    address = address.strip().lower()
    domain = address.rpartition("@")[2]
    if "@" not in address or not domain:
        raise Refused("invalid_email", "the email address cannot be read")
    return Destination(e164=address, country="", prefix=f"@{domain}", line_type=0, channel="email")


def screen(e164: str, rules: GuardRules) -> Destination:
    """Apply rules 1 to 3 (the pure ones); return the destination or raise Refused."""
    dest = destination(e164, rules.prefix_digits)
    if dest.country not in rules.allowed_countries:
        raise Refused("country_not_allowed", "codes are not sent to this country")
    if not sendable(dest.line_type, rules):
        raise Refused("line_type_refused", "codes are not sent to this kind of number")
    return dest


def sendable(line_type: int, rules: GuardRules) -> bool:
    """Tell whether codes may go to a line type: configured, and never premium, shared-cost
    or unknown."""
    return line_type not in NEVER_SENT and line_type in rules.sendable_types


def caps(dest: Destination, rules: GuardRules) -> list[Cap]:
    """Return the counters one send to `dest` is charged to, in the order they are checked."""
    found: list[Cap] = []
    groups: tuple[tuple[str, str, tuple[Rate, ...]], ...]
    if dest.channel == "email":
        groups = (
            ("address", dest.e164, rules.per_phone),
            ("domain", dest.prefix, rules.per_domain),
        )
    else:
        groups = (
            ("phone", dest.e164, rules.per_phone),
            ("prefix", dest.prefix, rules.per_prefix),
            ("country", dest.country, rules.per_country),
        )
    for name, value, rates in groups:
        for rate in rates:
            if not rate.off:
                found.append(Cap(f"{name}_{_period(rate)}", f"{name}:{rate.seconds}:{value}", rate))
    if rules.daily_budget > 0:
        found.append(Cap("daily_budget", "budget", Rate(rules.daily_budget, 86400)))
    return found


def refusal_codes(rules: GuardRules) -> set[str]:
    """Return every refusal word the guards can answer with under `rules`."""
    caps_found = {f"cap_{c.name}" for c in all_caps(rules)}
    return {"invalid_phone", "invalid_email", "breaker_open", *FORBIDDEN, *caps_found}


def all_caps(rules: GuardRules) -> list[Cap]:
    """Return every cap a send can be charged to, by phone then by email (names unique)."""
    found: list[Cap] = []
    for sample in (Destination("+0", "", "", 0), Destination("", "", "", 0, "email")):
        found += [c for c in caps(sample, rules) if c.name not in {f.name for f in found}]
    return found


def breaker_groups(dest: Destination) -> list[tuple[str, str]]:
    """Return the (name, key) groups a breaker watches for a destination (none for email:
    the breaker is about pumped phone numbers)."""
    if dest.channel == "email":
        return []
    return [("prefix", f"prefix:{dest.prefix}"), ("country", f"country:{dest.country}")]


def tripped(sent: int, verified: int, rules: GuardRules) -> bool:
    """Tell whether a group's counts in the window open its breaker."""
    if sent < rules.breaker_min_sent:
        return False
    return verified < rules.breaker_ratio * sent


def resend_wait(sends: int, base: int = 30) -> int:
    """Return the seconds to wait after the `sends`-th send of a challenge: 30, 60, 120 ..."""
    if sends <= 0:
        return 0
    return int(base * 2 ** min(sends - 1, 16))


def _period(rate: Rate) -> str:
    return {3600: "hour", 86400: "day"}.get(rate.seconds, f"{rate.seconds}s")
