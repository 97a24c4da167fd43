"""Parse, check and mask phone numbers; E.164 everywhere."""

from __future__ import annotations

import functools
from collections.abc import Iterable

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

# Names accepted in settings for the allowed number types.
NUMBER_TYPES: dict[str, int] = {
    "mobile": PhoneNumberType.MOBILE,
    "fixed_line": PhoneNumberType.FIXED_LINE,
    "fixed_line_or_mobile": PhoneNumberType.FIXED_LINE_OR_MOBILE,
    "toll_free": PhoneNumberType.TOLL_FREE,
    "premium_rate": PhoneNumberType.PREMIUM_RATE,
    "shared_cost": PhoneNumberType.SHARED_COST,
    "voip": PhoneNumberType.VOIP,
    "personal_number": PhoneNumberType.PERSONAL_NUMBER,
    "pager": PhoneNumberType.PAGER,
    "uan": PhoneNumberType.UAN,
    "voicemail": PhoneNumberType.VOICEMAIL,
    "unknown": PhoneNumberType.UNKNOWN,
}
DEFAULT_ALLOWED_TYPES = (
    "mobile",
    "fixed_line_or_mobile",
    "fixed_line",
    "voip",
    "personal_number",
    "toll_free",
    "uan",
    "unknown",
)


class InvalidPhone(ValueError):
    """A phone number was refused; `reason` is a stable machine-readable word."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@functools.lru_cache(maxsize=4096)
def parse(raw: str, default_region: str | None = None) -> str:
    """Return the E.164 form of a valid number, reading national input in `default_region`.

    Cached: every webhook parses its receiving number (one of ours) and its sender, and a
    parse costs about 100 us. Failures are not cached; the cache holds only valid numbers.
    """
    text = raw.strip()
    if not text or len(text) > 32:
        raise InvalidPhone("invalid_phone", "phone number is empty or too long")
    try:
        number = phonenumbers.parse(text, default_region)
    except NumberParseException as exc:
        raise InvalidPhone("invalid_phone", f"phone number cannot be read: {exc}") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("invalid_phone", "phone number is not a valid number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_sender(raw: str, default_region: str | None = None, international: bool = False) -> str:
    """Return the E.164 form of an inbound address, or raise InvalidPhone.

    Several providers send international numbers as bare digits ("14155550100");
    `international=True` reads those with a leading "+".
    """
    text = raw.strip()
    if international and text.isdigit():
        text = "+" + text
    return parse(text, default_region)


def check_type(e164: str, allowed: Iterable[str]) -> None:
    """Raise InvalidPhone unless the number's type is one of `allowed`."""
    kind = phonenumbers.number_type(phonenumbers.parse(e164))
    if kind not in {NUMBER_TYPES[name] for name in allowed}:
        name = next((k for k, v in NUMBER_TYPES.items() if v == kind), "unknown")
        raise InvalidPhone("phone_type_refused", f"{name.replace('_', '-')} numbers are refused")


def region(e164: str) -> str | None:
    """Return the ISO region of an E.164 number, if known."""
    return phonenumbers.region_code_for_number(phonenumbers.parse(e164))


def mask(e164: str | None) -> str | None:
    """Mask a number for display and logs: "+33612345678" -> "+33 6** *** *78"."""
    if not e164:
        return None
    try:
        number = phonenumbers.parse(e164)
    except NumberParseException:
        return "***"
    national = phonenumbers.national_significant_number(number)
    if len(national) <= 4:
        hidden = "*" * len(national)
    else:
        hidden = national[0] + "*" * (len(national) - 3) + national[-2:]
    groups = [hidden[i : i + 3] for i in range(0, len(hidden), 3)]
    if len(groups) > 1 and len(groups[-1]) == 1:
        groups[-2:] = [groups[-2] + groups[-1]]
    return f"+{number.country_code} {' '.join(groups)}"
