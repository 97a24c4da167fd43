"""The application factory: the only place that knows every concrete class."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask

from app import assets, config, events, limits, proofs, web
from app.clock import Clock, SystemClock
from app.config import schema
from app.crypto import KeyRing
from app.ops import health, logs
from app.ops.logfilter import install as install_log_filter
from app.providers import build_enabled
from app.runtime import EXTENSION, Runtime
from app.store.nonces import SqlNonces
from app.store.sql import SqlStore
from app.store.stats import SqlStats
from app.usecases import api_keys, apps, checks, context
from app.usecases.fallback import Fallback, OutboundCodes
from app.web.bodies import BodyDeadline, BodyRules, gevent_patched

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
    app = _flask(settings)
    nonces = SqlNonces()
    providers = build_enabled(settings, nonces)  # refuse bad provider settings before the store
    signer = proofs.build(settings)  # and unreadable proof keys
    store = SqlStore(settings.database.url, settings.database.pool_size)
    nonces.connect(store)
    if settings.database.auto_create:
        store.create_schema()
    keys = KeyRing(settings.secret_keys)
    bus = events.make_bus(settings, store)
    ctx = context.Context(
        store=store,
        bus=bus,
        clock=clock or SystemClock(),
        keys=keys,
        policy=context.policy_for(settings),
        limits=limits.build(settings, store, keys),
        default_app=apps.default_app(settings),
        observer=_metrics(list(providers)),
        vouchers=[checks.TestNumbers.from_settings(settings, keys)],
        proofs=signer,
    )
    rt = Runtime(settings, ctx, providers)
    rt.components["database"] = health.StoreHealth(store)
    if isinstance(bus, health.Component):
        rt.components["bus"] = bus
    rt.stats = SqlStats(store.reader)
    rt.fallback = _fallback(settings, store, keys, ctx)
    if rt.fallback is not None:
        ctx.vouchers.append(OutboundCodes(rt.fallback, "sms"))
        ctx.vouchers.append(OutboundCodes(rt.fallback, "email"))
    app.extensions[EXTENSION] = rt
    web.register(app)
    _announce(settings, ctx)
    return app


def _fallback(
    settings: schema.Settings, store: SqlStore, keys: KeyRing, ctx: context.Context
) -> Fallback | None:
    """Return the fallback of codes sent to users, or None without [[senders]]."""
    if not settings.senders:
        return None
    from app import senders
    from app.limits.sends import SendGuard, rules_for
    from app.senders.transport import Transport
    from app.store.sends_sql import SqlSends

    built = senders.build(settings.senders)
    f = settings.fallback
    if any(s.channel == "sms" for s in built) and not f.allowed_countries:
        raise senders.SettingsError("fallback.allowed_countries: list the countries codes go to")
    assert ctx.limits is not None
    metrics = ctx.observer
    guard = SendGuard(
        ctx.limits.counters, rules_for(f), lambda v: keys.digest("limit", v),
        getattr(metrics, "send_refused", lambda guard: None),
    )  # fmt: skip
    return Fallback(
        built, guard, SqlSends(store), Transport(), settings.server.public_url,
        max_sends=f.max_sends, resend_base=f.resend_base,
        observe=getattr(metrics, "outbound_send", lambda sender, country, status: None),
    )  # fmt: skip


def body_rules(settings: schema.Settings) -> BodyRules:
    """Return the time allowance of request bodies."""
    s = settings.server
    return BodyRules(s.body_timeout, s.body_grace, s.body_min_rate)


def _flask(settings: schema.Settings) -> Flask:
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
    return app


def _metrics(providers: list[str]) -> PrometheusMetrics:
    # Imported here: prometheus_client reads PROMETHEUS_MULTIPROC_DIR when first imported,
    # which `reverse-otp serve` sets before building the first app.
    from app.ops.metrics import PrometheusMetrics

    return PrometheusMetrics(providers)


def _configure_logging() -> None:
    if not logging.getLogger().handlers:
        logs.configure(os.environ.get("REVERSE_OTP_LOG_LEVEL", "INFO").upper())
    install_log_filter()


def _announce(settings: schema.Settings, ctx: context.Context) -> None:
    if settings.development:
        _development_banner(settings, ctx)
    elif not settings.server.public_url.startswith("https://"):
        log.warning(
            "server.public_url is not https: status tokens and webhooks travel in clear text"
        )


def _development_banner(settings: schema.Settings, ctx: context.Context) -> None:
    """Warn loudly, and make the first API key once (the first process to start wins)."""
    log.warning(
        "DEVELOPMENT MODE: generated secret, SQLite and the SMS simulator; not for production"
    )
    key_file = Path(settings.server.instance_dir) / "api_key"
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    key = api_keys.create_api_key(ctx, "development")
    with os.fdopen(fd, "w") as out:
        out.write(key + "\n")
    print(f"\n  Development API key (saved in {key_file}):\n\n    {key}\n", file=sys.stderr)
