"""The application factory: the only place that knows every concrete class."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask

from app import assets, config
from app.clock import Clock, SystemClock
from app.config import checks, schema
from app.crypto import KeyRing
from app.events.base import EventBus
from app.events.memory import MemoryBus
from app.events.poller import PollingBus, StatusPoller
from app.limits.rules import Limits, Rules
from app.ops import health, logs
from app.ops.logfilter import install as install_log_filter
from app.providers import REGISTRY
from app.providers.base import Defaults, Nonces, NoNonces, Provider, SettingsError
from app.providers.guards import Guarded
from app.runtime import EXTENSION, Runtime
from app.store.nonces import SqlNonces
from app.store.sql import SqlStore
from app.store.stats import SqlStats
from app.usecases import api_keys, apps, challenges, context
from app.web.bodies import BodyDeadline, BodyRules, gevent_patched
from app.workers.delivery import Deliverer

if TYPE_CHECKING:
    from app.ops.metrics import PrometheusMetrics

log = logging.getLogger("app")


def create_app(
    settings: schema.Settings | dict[str, Any] | None = None, clock: Clock | None = None
) -> Flask:
    """Build the app from settings (loaded from file and environment when not given)."""
    if not isinstance(settings, schema.Settings):
        settings = config.load(overrides=settings)
    _configure_logging()
    app = Flask(
        __name__, template_folder=assets.folder("templates"), static_folder=assets.folder("static")
    )
    app.config["MAX_CONTENT_LENGTH"] = settings.server.max_body_bytes
    app.config["SECRET_KEY"] = settings.server.secret_key
    app.config["SECRET_KEY_FALLBACKS"] = list(settings.server.old_secret_keys)
    bodies = BodyDeadline(app.wsgi_app, body_rules(settings), under_gevent=gevent_patched())
    app.wsgi_app = bodies  # type: ignore[method-assign]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.compact = False  # type: ignore[attr-defined]
    nonces = SqlNonces()
    providers = build_providers(settings, nonces)  # refuse bad provider settings before the store
    store = SqlStore(settings.database.url, settings.database.pool_size)
    nonces.connect(store)
    if settings.database.auto_create:
        store.create_schema()
    keys = KeyRing(settings.secret_keys)
    bus = event_bus(settings, store)
    ctx = context.Context(
        store=store,
        bus=bus,
        clock=clock or SystemClock(),
        keys=keys,
        policy=policy(settings),
        limits=limits(settings, store, keys),
        default_app=apps.default_app(settings),
        observer=_metrics(list(providers)),
    )
    rt = Runtime(settings, ctx, providers)
    rt.components["database"] = health.StoreHealth(store)
    if isinstance(bus, health.Component):
        rt.components["bus"] = bus
    rt.stats = SqlStats(store.reader)
    app.extensions[EXTENSION] = rt
    _register(app)
    if settings.development:
        _development_banner(settings, ctx)
    elif not settings.server.public_url.startswith("https://"):
        log.warning(
            "server.public_url is not https: status tokens and webhooks travel in clear text"
        )
    return app


def body_rules(settings: schema.Settings) -> BodyRules:
    """Return the time allowance of request bodies."""
    s = settings.server
    return BodyRules(s.body_timeout, s.body_grace, s.body_min_rate)


def policy(settings: schema.Settings) -> context.Policy:
    """Return the challenge policy the settings describe."""
    c = settings.codes
    return context.Policy(
        code_format=settings.code_format,
        numbers={n.number: n.provider for n in settings.numbers},
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
    )


def limits(settings: schema.Settings, store: SqlStore, keys: KeyRing) -> Limits:
    """Return the abuse limits, counting in the database or in Redis as configured."""
    from app.domain.rates import parse

    s = settings.limits
    counters: Any
    if s.storage == "redis":
        from app.limits.redis_counters import RedisCounters

        counters = RedisCounters.from_url(s.redis_url, s.key_prefix)
    else:
        from app.limits.sql_counters import SqlCounters

        counters = SqlCounters(store)
    rules = Rules(
        per_api_key=parse(s.per_api_key),
        per_ip=parse(s.per_ip),
        per_phone=parse(s.per_phone),
        per_phone_global=s.phone_ceiling,
        max_pending=s.max_pending,
        sender_failures=parse(s.sender_failures),
        sender_cooloff=s.sender_cooloff,
    )
    return Limits(counters, rules, lambda value: keys.digest("limit", value))


def event_bus(settings: schema.Settings, store: SqlStore) -> EventBus:
    """Return the bus the settings name; both kinds poll the database when needed."""
    events = settings.events
    local = MemoryBus()
    if events.backend == "redis":
        from app.events.redisbus import RedisBus

        interval = events.poll_interval or 0.5
        fallback = StatusPoller(local, store.final_statuses, interval, active=False)
        return RedisBus(events.redis_url, events.redis_channel, local, fallback)
    if events.poll_interval <= 0:
        return local
    return PollingBus(local, StatusPoller(local, store.final_statuses, events.poll_interval))


def build_deliverer(settings: schema.Settings, ctx: context.Context) -> Deliverer:
    """Return the callback delivery worker for the app's store and settings."""
    return Deliverer(
        ctx.store,
        ctx.clock,
        settings.callbacks,
        ctx.default_app,
        sweep=lambda: challenges.expire_due(ctx),
        observer=ctx.observer,
    )


def build_providers(settings: schema.Settings, nonces: Nonces | None = None) -> dict[str, Provider]:
    """Build every provider with a settings section, or raise ConfigError naming the problem."""
    defaults = Defaults(
        public_url=settings.server.public_url,
        default_region=settings.phones.default_region,
        numbers={n.number: n.provider for n in settings.numbers},
        nonces=nonces or NoNonces(),
    )
    built: dict[str, Provider] = {}
    for name, section in settings.providers.items():
        if section.get("enabled", True) is False:
            continue
        factory = REGISTRY.get(name)
        if factory is None:
            raise checks.ConfigError(
                f"providers.{name}: unknown provider; known: {sorted(REGISTRY)}"
            )
        try:
            built[name] = Guarded(factory(section, defaults), section)
        except SettingsError as exc:
            raise checks.ConfigError(str(exc)) from None
    for number in settings.numbers:
        if number.provider not in built:
            raise checks.ConfigError(
                f"numbers: {number.number} names provider {number.provider!r}, "
                f"which has no [providers.{number.provider}] section"
            )
    return built


def _register(app: Flask) -> None:
    from app.web import admin, api, docs, errors, headers, live, ops, requestlog, webhooks

    errors.register(app)
    headers.register(app)
    requestlog.register(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(webhooks.bp)
    live.register(app)
    app.register_blueprint(ops.bp)
    app.register_blueprint(docs.bp)
    app.register_blueprint(admin.bp)


def _metrics(providers: list[str]) -> PrometheusMetrics:
    # Imported here: prometheus_client reads PROMETHEUS_MULTIPROC_DIR when first imported,
    # which `reverse-otp serve` sets before building the first app.
    from app.ops.metrics import PrometheusMetrics

    return PrometheusMetrics(providers)


def _configure_logging() -> None:
    if not logging.getLogger().handlers:
        logs.configure(os.environ.get("REVERSE_OTP_LOG_LEVEL", "INFO").upper())
    install_log_filter()


def _development_banner(settings: schema.Settings, ctx: context.Context) -> None:
    """Warn loudly, and make the first API key once (the first process to start wins)."""
    log.warning(
        "DEVELOPMENT MODE: generated secret, SQLite and the SMS simulator; not for production"
    )
    key_file = Path(settings.server.instance_path) / "api_key"
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    key = api_keys.create_api_key(ctx, "development")
    with os.fdopen(fd, "w") as out:
        out.write(key + "\n")
    print(f"\n  Development API key (saved in {key_file}):\n\n    {key}\n", file=sys.stderr)
