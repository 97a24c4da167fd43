"""What every use case is given (`Context`), the challenge `Policy`, and the
errors use cases raise (each with a stable code and an HTTP status).
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from app.clock import Clock
from app.config import schema
from app.crypto import KeyRing
from app.domain import codes, countries, locales, phone
from app.domain.apps import DEFAULT_APP_ID, App
from app.domain.challenges import CHANNELS, Challenge, Status
from app.events.base import EventBus, StatusChanged
from app.limits.rules import Limits, Refusal
from app.ops.observer import NullObserver, Observer
from app.store.base import Store

log = logging.getLogger(__name__)


CODE_PURPOSE = "code"

TOKEN_PURPOSE = "token"  # noqa: S105 - a purpose label, not a secret

MAX_METADATA_BYTES = 2048


class ServiceError(Exception):
    """A request the service refuses; `code` is a stable word for the API."""

    status = 400

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Forbidden(ServiceError):
    status = 403


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class Unavailable(ServiceError):
    status = 503


class RateLimited(ServiceError):
    """A limit refused the request; `retry_after` seconds until it may succeed."""

    status = 429

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.limit, refusal.message)
        self.retry_after = refusal.retry_after


class TooSoon(ServiceError):
    status = 429

    def __init__(self, code: str, message: str, retry_after: int) -> None:
        super().__init__(code, message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Policy:
    """What the settings say about challenges, read once at start-up."""

    code_format: codes.CodeFormat
    numbers: dict[str, str]
    ttl: int = 600
    min_ttl: int = 60
    max_ttl: int = 600
    max_attempts: int = 5
    default_region: str | None = None
    allowed_types: tuple[str, ...] = phone.DEFAULT_ALLOWED_TYPES
    operator_name: str = "reverse-otp"
    discovery_format: codes.CodeFormat | None = None
    status_grace: int = 300
    renew_cooldown: int = 30
    # The [[test_numbers]] phones: accepted as expected phones even when phonenumbers calls
    # them invalid (most reserved fictional ranges are).
    test_phones: frozenset[str] = frozenset()
    countries: countries.CountryPolicy = field(default_factory=countries.CountryPolicy)
    # Each number's channels and the provider receiving each (default: SMS by `numbers`).
    routes: dict[str, dict[str, str]] = field(default_factory=dict)
    languages: tuple[str, ...] = locales.LANGUAGES
    default_language: str = locales.DEFAULT_LANGUAGE
    return_origins: tuple[str, ...] = ()
    development: bool = False
    ignore_words: frozenset[str] = field(init=False)
    templates: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        fmt = self.code_format
        templates = locales.sms_templates(fmt.template, self.languages)
        object.__setattr__(self, "templates", templates)
        # The operator's name is part of the text too: its words must never read as a code.
        # Every enabled language's words are ignored, whichever language a user sends.
        words = locales.fixed_words(fmt, templates.values(), self.operator_name)
        object.__setattr__(self, "ignore_words", words)
        if not self.routes:
            object.__setattr__(self, "routes", {n: {"sms": p} for n, p in self.numbers.items()})

    def channels_of(self, number: str) -> tuple[str, ...]:
        """Return the channels a number receives, in the order of CHANNELS."""
        offered = self.routes.get(number, {})
        return tuple(c for c in CHANNELS if c in offered)

    def sms_format(self, language: str | None) -> codes.CodeFormat:
        """Return the code format whose template is the SMS text of a language."""
        template = self.templates.get(language or "") or self.templates[self.default_language]
        return replace(self.code_format, template=template)

    def format_for(self, discovery: bool) -> codes.CodeFormat:
        """Return the code format of a mode: long codes when any sender may verify."""
        return (self.discovery_format or self.code_format) if discovery else self.code_format

    def mask(self, text: str) -> str:
        """Return a text with every code candidate of every format masked (for storage)."""
        return codes.mask(text, self.formats, self.ignore_words)

    @property
    def formats(self) -> list[codes.CodeFormat]:
        """Every code format in use, for extraction."""
        found = [self.code_format, self.format_for(True)]
        return [f for i, f in enumerate(found) if f.length not in {g.length for g in found[:i]}]


class Voucher(Protocol):
    """A source that can say whether a code presented to /check proves a challenge's expected
    phone (app/usecases/checks.py): the test numbers, and any later source of codes."""

    method: str  # recorded on the challenges it verifies (a Method value)

    def covers(self, ctx: Context, challenge: Challenge) -> bool:
        """Whether this source may vouch for codes of this challenge at all."""

    def vouches(self, ctx: Context, challenge: Challenge, code: str) -> bool:
        """Whether `code` is the right one for this challenge (compared in constant time)."""


class ProofSigner(Protocol):
    """Signs verification proofs (app/proofs): who issues them and how long they live."""

    issuer: str
    ttl: int
    max_age: int

    def sign(self, claims: dict[str, Any]) -> str:
        """Return the claims as a compact JWS."""
        ...

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """Return the public keys that verify proofs, as a JWK Set."""
        ...


@dataclass
class Context:
    """The collaborators of every use case."""

    store: Store
    bus: EventBus
    clock: Clock
    keys: KeyRing
    policy: Policy
    observer: Observer = field(default_factory=NullObserver)
    _turns: itertools.count[int] = field(default_factory=itertools.count)
    limits: Limits | None = None
    # The app of configured API keys and of challenges recorded without one.
    default_app: App = field(default_factory=lambda: App(DEFAULT_APP_ID, "reverse-otp"))
    # Who may vouch for a code presented to /check, first covering one first.
    vouchers: list[Voucher] = field(default_factory=list)
    # Signs proofs of verified challenges; None when proofs are off.
    proofs: ProofSigner | None = None

    def next_turn(self) -> int:
        return next(self._turns)


def publish(ctx: Context, challenge_id: str, status: Status) -> None:
    if status.final:
        ctx.observer.challenge_ended(status.value)
    try:
        ctx.bus.publish(StatusChanged(challenge_id, status.value))
    except Exception:
        # The change is committed; listeners fall back to reading the store.
        log.exception("event publish failed challenge=%s", challenge_id)


def policy_for(settings: schema.Settings) -> Policy:
    """Return the challenge policy the settings describe."""
    c = settings.codes
    return Policy(
        code_format=settings.code_format,
        numbers={n: _main(routes) for n, routes in _routes(settings).items()},
        routes=_routes(settings),
        ttl=c.ttl,
        min_ttl=c.min_ttl,
        max_ttl=c.max_ttl,
        max_attempts=c.max_attempts,
        default_region=settings.phones.default_region,
        allowed_types=tuple(settings.phones.allowed_types),
        operator_name=settings.server.name,
        discovery_format=settings.discovery_format,
        status_grace=c.status_grace,
        renew_cooldown=c.renew_cooldown,
        test_phones=frozenset(t.phone for t in settings.test_numbers),
        countries=countries.CountryPolicy(
            allowed=frozenset(settings.phones.allowed_countries),
            denied=frozenset(settings.phones.denied_countries),
            discovery_types=tuple(settings.phones.discovery_sender_types),
        ),
        languages=tuple(settings.page.languages),
        default_language=settings.page.default_language,
        return_origins=tuple(settings.page.return_origins),
        development=settings.development,
    )


def _routes(settings: schema.Settings) -> dict[str, dict[str, str]]:
    """Return each number's channels and their providers, numbers in the order listed."""
    routes: dict[str, dict[str, str]] = {}
    for n in settings.numbers:
        routes.setdefault(n.number, {})[n.channel] = n.provider
    return routes


def _main(routes: dict[str, str]) -> str:
    """Return a number's SMS provider, or the provider of its only other channel."""
    return routes.get("sms") or next(iter(routes.values()))
