"""Test numbers: phones an operator lists with a fixed code, for app-store review and QA.

A challenge for a listed phone may be verified by presenting that code to
`POST /api/v1/challenges/<id>/check` instead of texting it. So that a fixed code can never
stand in for a real person's phone, a listed number must lie in a range the numbering plan
reserves for fiction (it reaches nobody), unless the operator says `allow_real = true`.

Reserved fictional ranges recognised here, and what phonenumbers says of them:

- North America (NANPA): NXX-555-0100 to 0199 in every area code, "for fictitious use".
  phonenumbers calls them valid fixed-line-or-mobile numbers, so only this list tells them
  apart from real ones.
- United Kingdom (Ofcom, numbers for drama): 07700 900000-900999 (mobile), 020 7946 0000-0999
  (London), 0113/0114/0115/0116/0117/0118/0121/0131/0141/0151/0161 496 0000-0999 and
  01632 960000-960999. phonenumbers calls most of them invalid (no region).
- France (ARCEP, numbers for fiction): 06 39 98 00 00 to 06 39 98 99 99. phonenumbers calls
  them invalid.

Any other number is refused, even one phonenumbers calls invalid today: its metadata lags
behind new allocations, so "invalid" is no promise that the number reaches nobody.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException

# E.164 patterns of the reserved fictional ranges (see the module docstring for sources).
FICTIONAL: dict[str, re.Pattern[str]] = {
    "NANP 555-01xx": re.compile(r"\+1[2-9]\d{2}55501\d{2}"),
    "UK 07700 900xxx": re.compile(r"\+447700900\d{3}"),
    "UK 020 7946 0xxx": re.compile(r"\+442079460\d{3}"),
    "UK 01xx 496 0xxx": re.compile(r"\+44(?:11[345678]|1[2-6]1)4960\d{3}"),
    "UK 01632 960xxx": re.compile(r"\+441632960\d{3}"),
    "FR 06 39 98 xx xx": re.compile(r"\+3363998\d{4}"),
}

RANGES_HELP = "+1 NXX 555 01xx, +44 7700 900xxx, +44 20 7946 0xxx, +33 6 39 98 xx xx"


def normalise(raw: str) -> str | None:
    """Return the E.164 form of a possible international number (fictional ones included).

    Fictional ranges are mostly *invalid* to phonenumbers (no operator holds them), so this
    accepts any number of a possible length; None when the text is no number at all.
    """
    text = raw.strip()
    if not text.startswith("+") or len(text) > 32:
        return None
    try:
        number = phonenumbers.parse(text, None)
    except NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def fictional(e164: str) -> str | None:
    """Return the name of the reserved fictional range holding a number, or None."""
    return next((name for name, rx in FICTIONAL.items() if rx.fullmatch(e164)), None)


def real_problem(e164: str) -> str | None:
    """Say why a listed test number could reach a real person, or None when it cannot.

    Only a number in a reserved fictional range is known to reach nobody.
    """
    if fictional(e164) is not None:
        return None
    number = phonenumbers.parse(e164, None)
    if phonenumbers.is_valid_number(number):
        where = phonenumbers.region_code_for_number(number) or f"+{number.country_code}"
        return f"{e164} is a real, routable number ({where}), not a reserved fictional one"
    return f"{e164} is not in a reserved fictional range"
