"""The settings schema: every key has a type, a default and a line of help.

`Settings` and the sections of background work; the others are in sections.py.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, SecretStr, field_validator, model_validator

from app.config.sections import (
    Api,
    Codes,
    Database,
    Events,
    Limits,
    Number,
    NumberForTests,
    Page,
    Phones,
    Section,
    Server,
    Streams,
)
from app.domain import callbacks as callback_rules
from app.domain import codes, locales, phone, rates
from app.domain.codes import CodeFormat


class Callbacks(Section):
    url: str = Field("", description="callback URL of the default app (configured API keys)")
    secret: str = Field("", description="whsec_ secret signing the default app's callbacks")
    full_phone: bool = Field(False, description="default app: show full numbers in callbacks")
    allow_private: bool = Field(
        False, description="allow callback URLs resolving to private or loopback addresses"
    )
    worker: bool = Field(True, description="deliver callbacks from a thread in each server process")
    connect_timeout: float = Field(3.05, gt=0, le=30, description="seconds to connect")
    read_timeout: float = Field(15.0, gt=0, le=60, description="seconds to wait for an answer")
    lease: float = Field(
        60.0, gt=0, description="seconds a worker holds a claimed callback; > both timeouts"
    )
    max_age: int = Field(86400, ge=60, description="seconds of retries before giving up")
    poll_interval: float = Field(1.0, gt=0, description="seconds between looks at the outbox")
    batch: int = Field(20, ge=1, le=500, description="callbacks claimed at a time")
    concurrency: int = Field(8, ge=1, le=200, description="callbacks one process delivers at once")
    per_app: int = Field(
        2, ge=1, le=200, description="callbacks of one app delivered at once (slow receivers)"
    )

    @property
    def attempt_deadline(self) -> float:
        """Seconds one attempt may take in all (connect, TLS, answer): less than the lease."""
        return self.connect_timeout + self.read_timeout

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        problem = callback_rules.check_url(value) if value else None
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: str) -> str:
        if value:
            callback_rules.secret_bytes(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Callbacks:
        if self.url and not self.secret:
            raise ValueError("callbacks.secret: set a whsec_ secret to sign callbacks to url")
        if self.lease <= self.attempt_deadline:
            raise ValueError("callbacks.lease must exceed connect_timeout + read_timeout")
        if self.per_app > self.concurrency:
            raise ValueError("callbacks.per_app must not exceed callbacks.concurrency")
        return self


class Metrics(Section):
    token: str = Field(
        "", description="Bearer token for /metrics; empty keeps /metrics closed (404)"
    )


class Admin(Section):
    key: str = Field("", description="key for the /admin dashboard; empty keeps it closed (404)")
    session_hours: int = Field(12, ge=1, le=168, description="hours an admin login lasts")


class Expiry(Section):
    sweep_seconds: float = Field(
        1.0, ge=0, description="how often each process expires due challenges; 0 turns it off"
    )
    batch_size: int = Field(500, ge=1, le=10000, description="challenges expired per sweep")


class Retention(Section):
    max_age_days: int = Field(
        30,
        ge=1,
        description="challenges, inbound messages, ended callbacks and limit counters older than"
        " this are deleted",
    )
    purge_hours: float = Field(
        6.0, ge=0, description="how often each process purges old rows; 0 turns it off"
    )
    batch_size: int = Field(1000, ge=1, le=100000, description="rows deleted per transaction")


class Proofs(Section):
    enabled: bool | None = Field(
        None,
        description="signed proofs of verified challenges (docs/proofs.md); unset: on in"
        " development (generated key) and in production when a key is set; true in production"
        " refuses to start without a key",
    )
    key_file: str = Field("", description="PEM file of the EC P-256 private key that signs")
    key: SecretStr = Field(
        SecretStr(""),
        description="the signing key's PEM text itself (for REVERSE_OTP_PROOFS__KEY); not with"
        " key_file",
    )
    verify_key_files: list[str] = Field(
        default_factory=list,
        description="PEM files of keys published for verification only (rotation: the next"
        " key before it signs, the previous one until its proofs expire)",
    )
    ttl: int = Field(600, ge=10, le=86400, description="seconds a proof lives after verification")
    jwks_max_age: int = Field(
        300, ge=0, le=86400, description="seconds verifiers may cache /.well-known/jwks.json"
    )

    @property
    def has_key(self) -> bool:
        return bool(self.key_file or self.key.get_secret_value())

    @model_validator(mode="after")
    def _one_key(self) -> Proofs:
        if self.key_file and self.key.get_secret_value():
            raise ValueError("proofs: set key_file or key, not both")
        return self


class Fallback(Section):
    """Codes sent to the user when they cannot send an SMS (docs/fallback.md)."""

    allowed_countries: list[str] = Field(
        default_factory=list,
        description="ISO codes of the countries codes may be sent to; nothing is sent elsewhere",
    )
    line_types: list[str] = Field(
        default_factory=lambda: ["mobile", "fixed_line_or_mobile"],
        description="number types codes may be sent to (premium-rate, shared-cost and unknown"
        " never are)",
    )
    prefix_digits: int = Field(
        3, ge=1, le=8, description="digits after the country code in a prefix"
    )
    per_phone: list[str] = Field(
        default_factory=lambda: ["3/hour", "6/day"], description="sends to one number"
    )
    per_prefix: list[str] = Field(
        default_factory=lambda: ["20/hour", "100/day"], description="sends to one number prefix"
    )
    per_country: list[str] = Field(
        default_factory=lambda: ["200/hour", "1000/day"], description="sends to one country"
    )
    per_domain: list[str] = Field(
        default_factory=lambda: ["200/hour", "1000/day"],
        description="emails to one address domain (each address: the per_phone rates)",
    )
    daily_budget: int = Field(2000, ge=0, description="messages sent per day, all together")
    breaker_window: int = Field(3600, ge=60, description="seconds the breaker looks back over")
    breaker_min_sent: int = Field(20, ge=1, description="sends before the breaker may trip")
    breaker_ratio: float = Field(
        0.2, ge=0, le=1, description="verified/sent under which a prefix or country is paused"
    )
    breaker_cooloff: int = Field(3600, ge=60, description="seconds a tripped breaker stays open")
    max_sends: int = Field(4, ge=1, le=20, description="codes sent per challenge at most")
    resend_base: int = Field(30, ge=1, description="seconds before the first resend (doubling)")

    @field_validator("per_phone", "per_prefix", "per_country", "per_domain")
    @classmethod
    def _rates(cls, value: list[str]) -> list[str]:
        for text in value:
            rates.parse(text)
        return value

    @field_validator("allowed_countries")
    @classmethod
    def _countries(cls, value: list[str]) -> list[str]:
        for code in value:
            if len(code) != 2 or not code.isalpha():
                raise ValueError(f"allowed_countries: {code!r} is not an ISO 3166 code")
        return [c.upper() for c in value]

    @field_validator("line_types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in phone.NUMBER_TYPES or name in NEVER_SENT_NAMES:
                raise ValueError(f"line_types: {name!r} cannot be sent to")
        return value


NEVER_SENT_NAMES = ("premium_rate", "shared_cost", "unknown")


class Settings(Section):
    server: Server = Field(default_factory=Server)
    database: Database = Field(default_factory=Database)
    api: Api = Field(default_factory=Api)
    codes: Codes = Field(default_factory=Codes)
    phones: Phones = Field(default_factory=Phones)
    numbers: list[Number] = Field(default_factory=list)
    test_numbers: list[NumberForTests] = Field(default_factory=list)
    providers: dict[str, dict[str, Any]] = Field(default_factory=dict)
    events: Events = Field(default_factory=Events)
    limits: Limits = Field(default_factory=Limits)
    streams: Streams = Field(default_factory=Streams)
    page: Page = Field(default_factory=Page)
    callbacks: Callbacks = Field(default_factory=Callbacks)
    metrics: Metrics = Field(default_factory=Metrics)
    admin: Admin = Field(default_factory=Admin)
    expiry: Expiry = Field(default_factory=Expiry)
    retention: Retention = Field(default_factory=Retention)
    proofs: Proofs = Field(default_factory=Proofs)

    fallback: Fallback = Field(default_factory=Fallback)
    senders: list[dict[str, Any]] = Field(
        default_factory=list, description="outbound senders of codes, tried in order"
    )

    @model_validator(mode="after")
    def _one_entry_per_channel(self) -> Settings:
        seen: set[tuple[str, str]] = set()
        for n in self.numbers:
            if (n.number, n.channel) in seen:
                raise ValueError(f"numbers: {n.number} is listed twice for channel {n.channel}")
            seen.add((n.number, n.channel))
        return self

    @property
    def development(self) -> bool:
        return self.server.mode == "development"

    @property
    def code_format(self) -> CodeFormat:
        return CodeFormat(self.codes.length, self.codes.alphabet, self.codes.template)

    @property
    def discovery_format(self) -> CodeFormat:
        return CodeFormat(self.codes.discovery_length, self.codes.alphabet, self.codes.template)

    @property
    def guess_bound(self) -> float:
        """Upper bound on a discovery guesser's success (see codes.guess_bound)."""
        fmt = self.discovery_format
        templates = locales.sms_templates(fmt.template, self.page.languages)
        ignore = locales.fixed_words(fmt, templates.values(), self.server.name)
        return codes.guess_bound(self.discovery_format, self.limits.max_pending, ignore)

    @property
    def secret_keys(self) -> list[bytes]:
        return [k.encode() for k in [self.server.secret_key, *self.server.old_secret_keys]]
