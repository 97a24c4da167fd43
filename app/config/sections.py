"""Settings sections: server, database, API, codes, phones, numbers, events,
streams, page and limits (each key typed, with a default and a line of help).
"""

from __future__ import annotations

import re
from typing import Literal

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from app.domain import codes, countries, locales, phone, rates, returns, testnumbers


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Server(Section):
    mode: Literal["development", "production"] = Field(
        "production", description="development turns on the simulator, demo pages and defaults"
    )
    public_url: str = Field(
        "http://127.0.0.1:8000",
        description="URL the outside world uses to reach this server (links, webhook signatures)",
    )
    secret_key: str = Field(
        "", description="server secret (>= 32 chars): hashes codes, signs tokens"
    )
    old_secret_keys: list[str] = Field(
        default_factory=list, description="retired secrets still accepted for pending challenges"
    )
    name: str = Field("reverse-otp", description="operator name shown on pages and in the SMS")
    instance_dir: str = Field(
        "instance",
        description="folder for development files (generated secret, SQLite database, first API"
        " key); relative: to the settings file's folder, else to the project checkout",
    )
    unsafe_allow_simulator: bool = Field(
        False, description="let production mode run the SMS simulator (tests only; never live)"
    )
    max_body_bytes: int = Field(64 * 1024, ge=1024, description="largest request body accepted")
    body_timeout: float = Field(
        20.0, gt=0, le=300, description="seconds a request body may take in all (then 408)"
    )
    body_grace: float = Field(
        5.0, gt=0, le=300, description="seconds a request body may take before its rate counts"
    )
    body_min_rate: int = Field(
        500, ge=0, description="bytes per second that extend a body's time (0: timeout only)"
    )
    max_connections_per_peer: int = Field(
        50,
        ge=0,
        description="connections one client address may hold open per worker (0: no cap;"
        " off behind trusted proxies)",
    )

    @field_validator("public_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("public_url must start with http:// or https://")
        return value.rstrip("/")


class Database(Section):
    url: str = Field("", description="SQLAlchemy URL; default sqlite file under instance/")
    auto_create: bool = Field(
        True, description="run the migrations at start-up (else run `reverse-otp db upgrade`)"
    )
    pool_size: int = Field(
        10, ge=1, le=200, description="PostgreSQL connections kept per process (as many more burst)"
    )


class Api(Section):
    keys: list[str] = Field(default_factory=list, description="API keys accepted as Bearer tokens")
    cors_origins: list[str] = Field(
        default_factory=list,
        description="browser origins allowed to call the API cross-site (default: none)",
    )


class Codes(Section):
    length: int = Field(6, ge=4, le=32, description="characters in an expected-phone code")
    discovery_length: int = Field(
        13, ge=4, le=32, description="characters in a discovery code (any sender may verify)"
    )
    allow_weak_discovery: bool = Field(
        False, description="start even when discovery codes are guessable (see docs/security.md)"
    )
    alphabet: str = Field(codes.CROCKFORD, description="characters codes are drawn from")
    template: str = Field(
        codes.DEFAULT_TEMPLATE,
        description="SMS text; {code} and {name} are filled in; keep the keyword first",
    )
    ttl: int = Field(600, ge=30, description="default challenge lifetime, seconds")
    min_ttl: int = Field(60, ge=10, description="shortest lifetime a request may ask for")
    max_ttl: int = Field(600, ge=30, le=3600, description="longest lifetime a request may ask for")
    max_attempts: int = Field(
        5, ge=1, le=100, description="failed attempts before a challenge fails"
    )
    status_grace: int = Field(
        300, ge=0, le=3600, description="seconds a status token still reads a final status"
    )
    renew_cooldown: int = Field(
        30, ge=0, le=3600, description="seconds before a pending challenge's code may be renewed"
    )

    @field_validator("alphabet")
    @classmethod
    def _check_alphabet(cls, value: str) -> str:
        codes.check_alphabet(value)
        return value


class Phones(Section):
    default_region: str | None = Field(None, description="ISO region for national-format input")
    allowed_types: list[str] = Field(
        default_factory=lambda: list(phone.DEFAULT_ALLOWED_TYPES),
        description="number types accepted as expected phones (premium_rate, shared_cost off)",
    )

    allowed_countries: list[str] = Field(
        default_factory=list,
        description="ISO regions whose phones may be expected or verify discovery challenges"
        ' (empty: all not denied), e.g. ["FR", "GB", "GG", "JE", "IM"]',
    )
    denied_countries: list[str] = Field(
        default_factory=list,
        description="ISO regions whose phones are refused as expected phones and as senders",
    )
    discovery_sender_types: list[str] = Field(
        default_factory=lambda: list(countries.DEFAULT_DISCOVERY_TYPES),
        description="number types that may verify a discovery challenge (premium_rate,"
        " shared_cost off)",
    )

    @field_validator("allowed_countries", "denied_countries")
    @classmethod
    def _regions(cls, value: list[str]) -> list[str]:
        upper = [v.strip().upper() for v in value]
        unknown = sorted(set(upper) - phonenumbers.SUPPORTED_REGIONS)
        if unknown:
            raise ValueError(f"unknown ISO regions {unknown} (two letters, e.g. FR, GG)")
        return upper

    @field_validator("allowed_types", "discovery_sender_types")
    @classmethod
    def _known_types(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(phone.NUMBER_TYPES))
        if unknown:
            raise ValueError(f"unknown number types {unknown}; known: {sorted(phone.NUMBER_TYPES)}")
        return value


class Number(Section):
    number: str = Field(description="virtual number in E.164")
    provider: str = Field(description="provider that delivers this number's messages")
    channel: Literal["sms", "whatsapp"] = Field(
        "sms",
        description="what this entry receives: sms, or whatsapp (list a number once per"
        " channel to receive both)",
    )

    @field_validator("number")
    @classmethod
    def _e164(cls, value: str) -> str:
        return phone.parse(value)


class NumberForTests(Section):
    """A `[[test_numbers]]` entry: a phone verified by presenting a fixed code to /check."""

    phone: str = Field(description="a phone in a reserved fictional range, E.164")
    code: SecretStr = Field(
        min_length=4, max_length=32, description="the code that verifies it (secret, not logged)"
    )
    allow_real: bool = Field(
        False, description="accept a real, routable phone: anyone with an API key and the code"
        " can then verify it without its owner",
    )  # fmt: skip

    @field_validator("phone")
    @classmethod
    def _international(cls, value: str) -> str:
        e164 = testnumbers.normalise(value)
        if e164 is None:
            raise ValueError("write the phone in international form, +<country code><number>")
        return e164


class Events(Section):
    backend: Literal["memory", "redis"] = Field("memory", description="event bus implementation")
    redis_url: str = Field("redis://127.0.0.1:6379/0", description="Redis URL for backend=redis")
    redis_channel: str = Field("reverse-otp:events", description="Redis pub/sub channel")
    poll_interval: float = Field(
        0.5,
        ge=0,
        le=10,
        description="seconds between database polls for other processes' changes (0: off)",
    )


class Streams(Section):
    heartbeat: float = Field(15, gt=0, le=120, description="seconds between keep-alive comments")
    retry_ms: int = Field(3000, ge=100, description="reconnection delay suggested to clients")
    max_per_ip: int = Field(
        20, ge=0, description="open streams and waiting long polls per client address (0: no cap)"
    )
    max_per_token: int = Field(
        5, ge=0, description="open streams and waiting long polls per challenge (0: no cap)"
    )
    max_wait: int = Field(30, ge=0, le=120, description="longest long-poll wait, seconds")
    worker_connections: int = Field(
        10000, ge=100, description="connections one gevent worker holds (open streams included)"
    )


class Page(Section):
    accent: str = Field("#1f4fd1", description="accent colour of the hosted page (#rrggbb)")
    accent_text: str = Field("#ffffff", description="text colour on the accent (#rrggbb)")
    background: str = Field("#f5f6f8", description="page background colour (#rrggbb)")
    demo_per_minute: int = Field(
        5, ge=1, description="demo challenges one address may create per minute"
    )
    beacon_per_minute: int = Field(
        60, ge=1, description="funnel events the hosted page may report per address per minute"
    )
    languages: list[str] = Field(
        default_factory=lambda: list(locales.LANGUAGES),
        description="languages of the page and the SMS; extraction reads every one's keyword",
    )
    default_language: str = Field(
        locales.DEFAULT_LANGUAGE, description="language when neither locale nor browser decides"
    )
    return_origins: list[str] = Field(
        default_factory=list,
        description="origins (https://host[:port]) a challenge's return_url may lead to, for"
        " every app",
    )

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(locales.LANGUAGES))
        if unknown or not value:
            raise ValueError(f"languages must be some of {list(locales.LANGUAGES)}")
        return list(dict.fromkeys(value))

    @field_validator("return_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        return [returns.check_origin(origin) for origin in value]

    @model_validator(mode="after")
    def _default_enabled(self) -> Page:
        if self.default_language not in self.languages:
            raise ValueError("page.default_language must be one of page.languages")
        return self

    @field_validator("accent", "accent_text", "background")
    @classmethod
    def _hex_colour(cls, value: str) -> str:
        if not re.fullmatch(r"#[0-9a-fA-F]{6}", value):
            raise ValueError("colours are written #rrggbb")
        return value.lower()


class Limits(Section):
    storage: Literal["database", "redis"] = Field(
        "database", description="where limit counters live, shared by every worker and host"
    )
    redis_url: str = Field("redis://127.0.0.1:6379/0", description="Redis URL for storage=redis")
    key_prefix: str = Field("rotp:limits:", description="prefix of the Redis keys")
    per_api_key: str = Field("600/hour", description="challenges one API key may create")
    per_ip: str = Field("60/hour", description="challenges one client IP may create")
    per_phone: str = Field(
        "5/hour", description="challenges naming one expected phone, counted per app"
    )
    per_phone_global: str = Field(
        "",
        description="challenges naming one expected phone, all apps together: a ceiling at"
        " least as high as per_phone (empty: 4 times per_phone)",
    )
    max_pending: int = Field(
        10_000, ge=1, description="pending challenges at most, all numbers together"
    )
    sender_failures: str = Field(
        "10/hour", description="wrong or unknown codes one sender may send before a cool-off"
    )
    sender_cooloff: int = Field(
        3600, ge=1, description="seconds a sender's messages match nothing once over the limit"
    )
    trusted_proxies: int = Field(
        0, ge=0, le=5, description="reverse proxies whose X-Forwarded-For is trusted (0: none)"
    )
    credential_failures: str = Field(
        "10/900",
        description="wrong admin keys, metrics tokens, API keys or webhook path tokens and Basic"
        " credentials one client address may present per window before its checks are refused"
        " (429)",
    )

    @field_validator("per_api_key", "per_ip", "per_phone", "sender_failures")
    @classmethod
    def _rate(cls, value: str) -> str:
        rates.parse(value)
        return value

    @property
    def phone_ceiling(self) -> rates.Rate:
        """The global per-phone rate: as set, or four times the per-app one."""
        if self.per_phone_global:
            return rates.parse(self.per_phone_global)
        app = rates.parse(self.per_phone)
        return rates.Rate(app.count * 4, app.seconds)

    @model_validator(mode="after")
    def _ceiling_above_per_app(self) -> Limits:
        app, ceiling = rates.parse(self.per_phone), self.phone_ceiling
        if app.off or ceiling.off:
            return self
        if ceiling.count * app.seconds < app.count * ceiling.seconds:
            raise ValueError(
                "per_phone_global must allow at least as many challenges as per_phone"
                " (it is the ceiling over all apps)"
            )
        return self

    @field_validator("credential_failures")
    @classmethod
    def _always_on(cls, value: str) -> str:
        if rates.parse(value).off:
            raise ValueError("credential checks are always throttled: allow at least 1 failure")
        return value
