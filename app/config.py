"""The one settings schema: every key has a type, a default and a line of help.

Settings come from a TOML file (path in REVERSE_OTP_CONFIG, else ./config.toml when present),
then environment variables override single keys: REVERSE_OTP_<SECTION>__<KEY>, for example
REVERSE_OTP_DATABASE__URL or REVERSE_OTP_PROVIDERS__TWILIO__AUTH_TOKEN. Values are read as
TOML values when they parse ("6", "true", '["a", "b"]'), else as plain strings.

With no file at all the server runs in development mode: SQLite under instance/, a generated
secret kept in instance/, the SMS simulator and one demo number.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import re
import secrets
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from app.domain import callbacks as callback_rules
from app.domain import codes, phone, rates
from app.domain.codes import CodeFormat

ENV_PREFIX = "REVERSE_OTP_"
DEMO_NUMBER = "+15017122661"


class ConfigError(Exception):
    """Settings cannot be used; the message names the key and what to set."""


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
    instance_path: str = Field("instance", description="folder for development files")
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

    @field_validator("allowed_types")
    @classmethod
    def _known_types(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(phone.NUMBER_TYPES))
        if unknown:
            raise ValueError(f"unknown number types {unknown}; known: {sorted(phone.NUMBER_TYPES)}")
        return value


class Number(Section):
    number: str = Field(description="virtual number in E.164")
    provider: str = Field(description="provider that delivers this number's SMS")

    @field_validator("number")
    @classmethod
    def _e164(cls, value: str) -> str:
        return phone.parse(value)


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


class Settings(Section):
    server: Server = Field(default_factory=Server)
    database: Database = Field(default_factory=Database)
    api: Api = Field(default_factory=Api)
    codes: Codes = Field(default_factory=Codes)
    phones: Phones = Field(default_factory=Phones)
    numbers: list[Number] = Field(default_factory=list)
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
        ignore = codes.template_words(
            codes.render(self.discovery_format, "{code}", name=self.server.name),
            self.codes.alphabet,
        )
        return codes.guess_bound(self.discovery_format, self.limits.max_pending, ignore)

    @property
    def secret_keys(self) -> list[bytes]:
        return [k.encode() for k in [self.server.secret_key, *self.server.old_secret_keys]]


def load(
    overrides: dict[str, Any] | None = None, environ: dict[str, str] | None = None
) -> Settings:
    """Read settings from the file, the environment and `overrides`, in rising priority."""
    env = dict(os.environ if environ is None else environ)
    raw, from_file = _read_file(env)
    _merge(raw, _from_environ(env))
    _merge(raw, overrides or {})
    if not from_file:
        raw.setdefault("server", {}).setdefault("mode", "development")
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_explain(exc)) from None
    _check_code_strength(settings)
    if settings.development:
        _refuse_development_in_production(settings)
        settings = _with_defaults(settings)
    else:
        settings = _checked(settings)
    problem = database_problem(settings.database.url)
    if problem:
        raise ConfigError(f"database.url: {problem}")
    return settings


def production_signs(settings: Settings) -> list[str]:
    """Say what makes settings a production configuration (empty: a local one).

    A configuration is production when its public_url is not a local address (loopback, 0.0.0.0,
    a private network, or a localhost name) or when it enables a real SMS provider (any
    provider section but the simulator's not marked enabled = false).
    """
    signs = []
    if not local_url(settings.server.public_url):
        signs.append(f"server.public_url {settings.server.public_url} is not a local address")
    for name, section in sorted(settings.providers.items()):
        enabled = not isinstance(section, dict) or section.get("enabled", True) is not False
        if name != "simulator" and enabled:
            signs.append(f"providers.{name} is a real SMS provider")
    return signs


def local_url(url: str) -> bool:
    """Tell whether a URL names this machine or a private network."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if address.is_loopback or address.is_link_local or address.is_unspecified:
        return True
    return any(
        address in network for network in PRIVATE_NETWORKS if network.version == address.version
    )


# Private networks (RFC 1918, IPv6 unique local): a development box on a LAN.
PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)


def _refuse_development_in_production(settings: Settings) -> None:
    signs = production_signs(settings)
    if signs:
        raise ConfigError(
            'server.mode: "development" (SMS simulator, demo pages, generated secrets) is '
            f"refused with a production configuration ({'; '.join(signs)}); set "
            'server.mode = "production", or use a local public_url and only the simulator'
        )


POSTGRES_SCHEME = "postgresql+psycopg://"


def database_problem(url: str) -> str | None:
    """Say what is wrong with a database URL before anything connects, or None."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return (
            f"{url!r} has no scheme; write sqlite:///<absolute path> or "
            f"{POSTGRES_SCHEME}user:password@host:5432/name"
        )
    if scheme in ("postgres", "postgresql"):
        return f"write {POSTGRES_SCHEME} instead of {scheme}:// (the driver this server uses)"
    if scheme == "postgresql+psycopg":
        try:
            import psycopg  # noqa: F401
        except ImportError:
            return "the PostgreSQL driver is not installed: pip install 'reverse-otp[postgres]'"
        return None
    if scheme == "sqlite":
        path = rest.removeprefix("/").split("?", 1)[0]
        if path and path != ":memory:":
            folder = Path(path).parent
            if not folder.is_dir():
                return f"folder {folder} does not exist; create it or correct the path"
        return None
    return f"{scheme}:// is not supported; use sqlite:///<path> or {POSTGRES_SCHEME}..."


SERVED_URL_FILE = "server_url"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def served_url(host: str, port: int) -> str:
    """Return the URL a local client reaches a server bound to host:port at."""
    if host in ("", "0.0.0.0"):  # noqa: S104 - naming the wildcard, not binding it
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def for_address(settings: Settings, host: str, port: int) -> Settings:
    """In development, point public_url at the address served unless it was set explicitly."""
    if not settings.development or "public_url" in settings.server.model_fields_set:
        return settings
    server = settings.server.model_copy(update={"public_url": served_url(host, port)})
    return settings.model_copy(update={"server": server})


def port_mismatch(settings: Settings, port: int) -> str | None:
    """Say when public_url names this machine on another port than the one served."""
    parts = urlsplit(settings.server.public_url)
    if (parts.hostname or "") not in LOCAL_HOSTS:
        return None
    named = parts.port or (443 if parts.scheme == "https" else 80)
    if named == port:
        return None
    return (
        f"server.public_url is {settings.server.public_url} but the server listens on port "
        f"{port}: links and webhook signatures use port {named}"
    )


def _check_code_strength(settings: Settings) -> None:
    bound = settings.guess_bound
    if bound < codes.GUESS_TARGET or settings.codes.allow_weak_discovery:
        return
    raise ConfigError(
        f"codes.discovery_length: {settings.codes.discovery_length} characters let "
        f"{codes.GUESS_MESSAGES:,} guessed SMS against limits.max_pending="
        f"{settings.limits.max_pending} succeed with probability up to {bound:.2g} "
        f"(must be below {codes.GUESS_TARGET:g}); lengthen the code, lower max_pending, "
        "or set codes.allow_weak_discovery = true"
    )


def _read_file(env: dict[str, str]) -> tuple[dict[str, Any], bool]:
    named = env.get(ENV_PREFIX + "CONFIG")
    path = Path(named) if named else Path("config.toml")
    if not path.is_file():
        if named:
            raise ConfigError(f"{ENV_PREFIX}CONFIG names {path}, which is not a file")
        return {}, False
    try:
        return tomllib.loads(path.read_text()), True
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _from_environ(env: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        path = name[len(ENV_PREFIX) :].lower().split("__")
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = _env_value(value)
    return out


def _env_value(value: str) -> Any:
    try:
        return tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        return value


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def _explain(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "settings"
        lines.append(f"{where}: {error['msg']}")
    return "invalid settings: " + "; ".join(lines)


def _with_defaults(settings: Settings) -> Settings:
    """Fill what development mode generates: database, secret, simulator, demo number."""
    instance = Path(settings.server.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    server = settings.server
    if not server.secret_key:
        server = server.model_copy(update={"secret_key": _instance_secret(instance / "secret_key")})
    database = settings.database
    if not database.url:
        database = database.model_copy(
            update={"url": f"sqlite:///{(instance / DEV_DATABASE).resolve()}"}
        )
    providers = dict(settings.providers)
    providers.setdefault("simulator", {"secret": _derived(server.secret_key, "simulator")})
    numbers = settings.numbers or [Number(number=DEMO_NUMBER, provider="simulator")]
    relaxed = {k: v for k, v in DEV_LIMITS.items() if k not in settings.limits.model_fields_set}
    return settings.model_copy(
        update={
            "server": server,
            "database": database,
            "providers": providers,
            "numbers": numbers,
            "limits": settings.limits.model_copy(update=relaxed),
        }
    )


# Creation limits of development mode, unless set: trying the flow again and again with one
# phone must not stop after five runs. Production keeps the Limits defaults.
DEV_LIMITS = {"per_phone": "100/hour", "per_ip": "600/hour"}


def _checked(settings: Settings) -> Settings:
    """Refuse production settings that would run insecurely."""
    server = settings.server
    for name, key in [("secret_key", server.secret_key)] + [
        (f"old_secret_keys[{i}]", k) for i, k in enumerate(server.old_secret_keys)
    ]:
        problem = weak_secret(key)
        if problem:
            raise ConfigError(f"server.{name}: {problem}")
    _refuse_examples(settings)
    _check_credentials(settings)
    if "simulator" in settings.providers and not server.unsafe_allow_simulator:
        enabled = settings.providers["simulator"].get("enabled", True) is not False
        if enabled:
            raise ConfigError(
                "providers.simulator: the development SMS simulator lets anyone verify any "
                "number; remove it in production (or set server.unsafe_allow_simulator = true)"
            )
    if not settings.database.url:
        raise ConfigError(
            "database.url: set the database URL (sqlite:///... or postgresql+psycopg://...)"
        )
    if not settings.numbers:
        raise ConfigError("numbers: list at least one [[numbers]] entry with number and provider")
    return settings


def configured_credentials(settings: Settings) -> list[tuple[str, str]]:
    """Return (key, value) of every secret a client presents to us, as configured."""
    found = [("admin.key", settings.admin.key), ("metrics.token", settings.metrics.token)]
    found += [(f"api.keys[{i}]", key) for i, key in enumerate(settings.api.keys)]
    for name, section in sorted(settings.providers.items()):
        for key in WEBHOOK_CREDENTIALS:
            value = section.get(key) if isinstance(section, dict) else None
            if isinstance(value, str):
                found.append((f"providers.{name}.{key}", value))
    return [(key, value) for key, value in found if value]


# Secrets an operator chooses for a provider's webhook (signing secrets issued by a provider
# are checked by its adapter).
WEBHOOK_CREDENTIALS = ("basic_password", "path_token")


def _check_credentials(settings: Settings) -> None:
    """Refuse a configured credential weaker than the server secret must be."""
    for key, value in configured_credentials(settings):
        problem = weak_secret(value)
        if problem:
            raise ConfigError(f"{key}: {problem.replace('secret', 'credential')}")


# Placeholder values of config.example.toml (a test keeps this list in step with the file).
PLACEHOLDERS = frozenset(
    {
        "...",
        "a long random password",
        "a long random string",
        "a-long-random-string",
        "account signature secret",
        "base64 Ed25519 public key from Mission Control > Keys & Credentials",
        "dashboard signing key",
        "from the dashboard",
        "Settings > Webhooks > Signing Key",
        "shared secret",
        "the subscription's signingKey",
        "webhook HMAC secret",
        "whsec_...",
        "your-plivo-auth-token",
        "your-twilio-auth-token",
    }
)
EXAMPLE_DOMAINS = ("example.com", "example.org", "example.net")
DEV_DATABASE = "reverse-otp.db"


def _refuse_examples(settings: Settings) -> None:
    """Refuse what was copied from config.example.toml rather than set for this server."""
    for where, value in _credentials(settings):
        if value.strip() in PLACEHOLDERS:
            raise ConfigError(
                f"{where}: this is the placeholder from config.example.toml; set your own value"
            )
    host = (urlsplit(settings.server.public_url).hostname or "").lower()
    if any(host == d or host.endswith("." + d) for d in EXAMPLE_DOMAINS):
        raise ConfigError(
            f"server.public_url: {host} is an example domain; set the URL this server is "
            "reached at (providers sign webhooks against it)"
        )
    if _is_development_database(settings):
        raise ConfigError(
            "database.url: this is the development database (its API keys included); "
            "give production a database of its own"
        )


def _credentials(settings: Settings) -> list[tuple[str, str]]:
    found = [("admin.key", settings.admin.key), ("metrics.token", settings.metrics.token)]
    found += [(f"api.keys[{i}]", k) for i, k in enumerate(settings.api.keys)]
    for name, section in settings.providers.items():
        found += _strings(f"providers.{name}", section)
    return found


def _strings(where: str, value: Any) -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(where, value)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(f"{where}.{k}", v)]
    if isinstance(value, list):
        return [s for i, v in enumerate(value) for s in _strings(f"{where}[{i}]", v)]
    return []


def _is_development_database(settings: Settings) -> bool:
    url = settings.database.url
    if not url.startswith("sqlite:///"):
        return False
    path = Path(url.removeprefix("sqlite:///").split("?", 1)[0])
    dev = Path(settings.server.instance_path) / DEV_DATABASE
    return path.resolve() == dev.resolve() or path.parts[-2:] == ("instance", DEV_DATABASE)


# Values shipped in examples and docs; a server using one has no secret at all.
KNOWN_SECRETS = frozenset(
    {
        "change-me-to-a-long-random-string-of-48-characters",
        "change-me",
        "changeme",
        "secret",
    }
)


def weak_secret(secret: str) -> str | None:
    """Say why a production secret is unfit, or None when it will do."""
    if secret.strip().lower() in KNOWN_SECRETS or "change-me" in secret.lower():
        return "this is the example secret; generate your own (see config.example.toml)"
    if len(secret) < 32:
        return "set a random secret of at least 32 characters"
    if len(set(secret)) < 10:
        return "the secret repeats too few characters to be random; generate one"
    return None


def _instance_secret(path: Path) -> str:
    if path.is_file():
        return path.read_text().strip()
    value = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(value + "\n")
    return value


def _derived(secret: str, purpose: str) -> str:
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).hexdigest()
