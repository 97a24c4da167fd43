"""The catalogue of every error code the server can answer with, and docs/errors.md from it.

Each code is the stable word of `{"error": {"code": ..., "message": ...}}` (or of a
command-line refusal, for the codes only `reverse-otp` commands meet). `tests/test_errors.py`
reads the source of app/ and fails when a code is emitted that is not here, or listed here
but emitted nowhere; it also checks that docs/errors.md is this catalogue rendered
(`python -m app.web.errorcodes > docs/errors.md` writes it).
"""

from __future__ import annotations

from dataclasses import dataclass

CLI = 0  # "status" of a code only the command line reports


@dataclass(frozen=True)
class Code:
    status: int
    meaning: str


CATALOGUE: dict[str, Code] = {
    # 400: the request is invalid
    "invalid_json": Code(400, "the body is not JSON (or not sent as application/json)"),
    "invalid_body": Code(400, 'a page event is not {"event": "<name>"}'),
    "invalid_event": Code(
        400, "a page event names no known step of the funnel; the known ones are named"
    ),
    "invalid_request": Code(400, "a field is missing, unknown or of the wrong type; named"),
    "invalid_phone": Code(400, "`phone` cannot be read as a valid number"),
    "invalid_email": Code(400, "/send: the expected `email` cannot be read"),
    "phone_type_refused": Code(400, "`phone` is of a refused line type ([phones] allowed_types)"),
    "country_refused": Code(400, "`phone`'s country is denied or not allowed ([phones]); named"),
    "invalid_ttl": Code(400, "`ttl` is out of the configured bounds"),
    "invalid_channels": Code(400, "`channels` is an empty list"),
    "unknown_channel": Code(400, "`channels` names a channel other than sms or whatsapp; named"),
    "unavailable_channel": Code(400, "`channels` names a channel no number of the app receives"),
    "invalid_callback_url": Code(400, "`callback_url` is not an acceptable https URL"),
    "callback_secret_missing": Code(400, "`callback_url` given, but the app has no secret"),
    "invalid_return_url": Code(400, "`return_url` is not https to an allowed origin; says why"),
    "invalid_wait": Code(400, "`wait` of a long poll is not a number of seconds in bounds"),
    "malformed_webhook": Code(400, "a provider's webhook request cannot be read"),
    # 401, 403, 404, 405
    "unauthorized": Code(401, "the API key, admin key or metrics token is missing or wrong"),
    "check_refused": Code(403, "/check for a discovery challenge or a phone no source knows"),
    "country_not_allowed": Code(403, "/send: codes are not sent to this country ([fallback])"),
    "line_type_refused": Code(403, "/send: codes are not sent to this kind of number"),
    "not_found": Code(404, "no such challenge, token, route, or feature not enabled"),
    "fallback_disabled": Code(404, "/send: this server sends no codes (no [[senders]])"),
    "method_not_allowed": Code(405, "the route does not answer this HTTP method"),
    # 408, 409, 413
    "request_timeout": Code(408, "the request body did not arrive in time"),
    "already_settled": Code(409, "the challenge is already final"),
    "not_pending": Code(409, "the challenge is final: there is no message to send any more"),
    "already_recorded": Code(409, "this page event is already counted for the challenge"),
    "no_expected_phone": Code(409, "/send: a discovery challenge has no phone to send a code to"),
    "no_expected_email": Code(409, "/send: channel email, but the challenge has no `email`"),
    "request_entity_too_large": Code(413, "the body is larger than [server] max_body_bytes"),
    # 429: a limit
    "rate_limited_api_key": Code(429, "too many challenges for this API key ([limits])"),
    "rate_limited_ip": Code(429, "too many challenges for this client_ip ([limits])"),
    "rate_limited_phone": Code(429, "too many challenges for this phone ([limits])"),
    "rate_limited_beacon": Code(
        429, "too many page events from this address ([page] beacon_per_minute)"
    ),
    "too_many_pending": Code(429, "the pending challenges reached [limits] max_pending"),
    "renew_too_soon": Code(429, "a new code is asked for before the cooldown ends"),
    "too_many_streams": Code(429, "too many open streams or long polls (address or challenge)"),
    "too_many_failures": Code(429, "too many wrong credentials from this address"),
    "too_many_logins": Code(429, "too many wrong admin keys from this address"),
    "send_too_soon": Code(429, "/send: a new code is asked for before the growing cooldown ends"),
    "send_limit": Code(429, "/send: the challenge had all the codes it may ([fallback] max_sends)"),
    "breaker_open": Code(429, "/send: too few codes to this prefix or country were verified"),
    "cap_phone_hour": Code(429, "/send: the per-phone hourly cap ([fallback] per_phone)"),
    "cap_phone_day": Code(429, "/send: the per-phone daily cap"),
    "cap_prefix_hour": Code(429, "/send: the per-prefix hourly cap ([fallback] per_prefix)"),
    "cap_prefix_day": Code(429, "/send: the per-prefix daily cap"),
    "cap_country_hour": Code(429, "/send: the per-country hourly cap ([fallback] per_country)"),
    "cap_country_day": Code(429, "/send: the per-country daily cap"),
    "cap_address_hour": Code(429, "/send: the per-address hourly cap (email; the per_phone rates)"),
    "cap_address_day": Code(429, "/send: the per-address daily cap (email)"),
    "cap_domain_hour": Code(429, "/send: the per-domain hourly cap (email; [fallback] per_domain)"),
    "cap_domain_day": Code(429, "/send: the per-domain daily cap (email)"),
    "cap_daily_budget": Code(429, "/send: the day's budget of messages ([fallback] daily_budget)"),
    # 5xx
    "internal_error": Code(500, "a bug: the server logged it"),
    "send_failed": Code(502, "/send: every sender serving the country failed; retry later"),
    "no_number": Code(503, "none of the app's numbers is configured"),
    "code_space_exhausted": Code(503, "no free code on the number; try again later"),
    "no_sender": Code(503, "/send: no configured sender serves the phone's country"),
    "store_unavailable": Code(503, "the database is unavailable; retry (Retry-After)"),
    "limits_unavailable": Code(503, "the limit counters (Redis) are unavailable; retry"),
    "try_later": Code(503, "a webhook cannot be checked now; the provider retries"),
    "too_many_connections": Code(503, "the worker holds too many connections; retry"),
    # Command line only (`reverse-otp apps create ...`)
    "invalid_name": Code(CLI, "an app name is empty, too long, or reads as a code"),
    "unknown_number": Code(CLI, "an app names a number that is not configured"),
    "invalid_return_origin": Code(CLI, "an app's return origin is not scheme://host[:port]"),
}


def codes_for(status: int) -> list[str]:
    """Return the codes answered with an HTTP status, in catalogue order."""
    return [name for name, code in CATALOGUE.items() if code.status == status]


def render() -> str:
    """Return docs/errors.md."""
    lines = [
        "# Error codes",
        "",
        "Every failed JSON answer has one shape,",
        '`{"error": {"code": "invalid_phone", "message": "phone number is not a valid number"}}`:',
        "`code` is one of the stable words below; `message` is for people and may change.",
        "This page is generated from `app/web/errorcodes.py`, and a test checks that the code",
        "emits exactly these codes.",
        "",
        "| Code | HTTP status | Meaning |",
        "|---|---|---|",
    ]
    for name, code in CATALOGUE.items():
        status = "command line" if code.status == CLI else str(code.status)
        lines.append(f"| `{name}` | {status} | {code.meaning} |")
    lines += [
        "",
        "Webhook requests refused by a provider's authenticity check answer a plain-text 401 or",
        "403 with no code, on purpose: a forger learns nothing. Inbound SMS outcomes (`matched`,",
        "`unknown_code`, `country_denied`, ...) are not errors: see `Outcome` in",
        "app/domain/challenges.py.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(), end="")
