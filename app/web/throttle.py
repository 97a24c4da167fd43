"""Failed credential checks, counted per client address in the shared limit counters.

Every check of a secret a client presents goes through here: the admin key (login form or
Bearer), the metrics token, API keys, and the path tokens and Basic credentials of webhooks
from providers that sign nothing. Wrong credentials are counted per realm and per
client address (the address rules of the creation limits, behind `trusted_proxies`); an
address over `[limits] credential_failures` is refused with 429 *before* its credential is
compared, so a right guess made over the limit cannot be told from a wrong one. The limit
protects the credential; whoever trips it locks out only their own address. Counters that
cannot be reached refuse the check (503, fail closed), never skip it.
"""

from __future__ import annotations

import math

from flask import Response

from app.domain.rates import Rate, parse
from app.limits.rules import Limits, LimitsUnavailable
from app.runtime import Runtime, runtime
from app.web.client import client_ip
from app.web.errors import error

# The error code each realm answers with once an address is over its limit.
CODES = {"admin": "too_many_logins"}
FALLBACK_CODE = "too_many_failures"


def refused(realm: str) -> Response | None:
    """Return a 429 answer when this address has no failed check left in `realm`, else None."""
    rt = runtime()
    rate = _rate(rt)
    count = _limits(rt).counters.peek(_name(rt, realm), rt.ctx.clock.now())
    if count is None or count.value < rate.count:
        return None
    seconds = max(1, math.ceil((count.reset_at - rt.ctx.clock.now()).total_seconds()))
    response = error(
        429, CODES.get(realm, FALLBACK_CODE), "too many failed credentials; try again later"
    )
    response.headers["Retry-After"] = str(seconds)
    return response


def failed(realm: str) -> None:
    """Count one wrong credential presented from this address in `realm`."""
    rt = runtime()
    _limits(rt).counters.hit(_name(rt, realm), _rate(rt).seconds, rt.ctx.clock.now())


def _rate(rt: Runtime) -> Rate:
    return parse(rt.settings.limits.credential_failures)


def _limits(rt: Runtime) -> Limits:
    if rt.ctx.limits is None:  # no counters: refuse rather than let guesses through
        raise LimitsUnavailable("no limit counters to throttle credential checks")
    return rt.ctx.limits


def _name(rt: Runtime, realm: str) -> str:
    ip = client_ip(rt.settings.limits.trusted_proxies)
    return f"auth_failures:{realm}:" + rt.ctx.keys.digest("auth-failures", f"{realm}:{ip}")[:32]
