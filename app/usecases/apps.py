"""Use cases for apps: register, list, rotate keys, revoke, and find the app behind a key.

An app is one integrator: a name (shown on the hosted page and in the SMS as {name}), a
callback URL and secret, the virtual numbers it may use and a default lifetime. Keys and
secrets are shown once; keys are stored as SHA-256 digests. Configuration-file keys belong
to the default app, built from the settings.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from app.config.schema import Settings
from app.domain import callbacks, codes, returns
from app.domain.apps import DEFAULT_APP_ID, App
from app.usecases.api_keys import api_key_hash
from app.usecases.api_keys import authenticate as by_key
from app.usecases.context import Context, NotFound, ServiceError
from app.usecases.inbound import candidates_in

KEY_PREFIX = "rotp_"


@dataclass(frozen=True)
class Caller:
    """Who presented an API key: a stable identity for limits, and the app it acts for."""

    identity: str
    app: App


@dataclass(frozen=True)
class Registered:
    """A new app with the secrets shown only now."""

    app: App
    key: str


def default_app(settings: Settings) -> App:
    """Return the app the settings file describes ([server] name, [callbacks] url, secret)."""
    section = settings.callbacks
    return App(
        id=DEFAULT_APP_ID,
        name=settings.server.name,
        callback_url=section.url or None,
        callback_secret=section.secret or None,
        full_phone=section.full_phone,
    )


def register(
    ctx: Context,
    name: str,
    callback_url: str | None = None,
    numbers: tuple[str, ...] = (),
    ttl: int | None = None,
    full_phone: bool = False,
    return_origins: tuple[str, ...] = (),
) -> Registered:
    """Create an app with a first API key and a callback secret."""
    name = name.strip()
    if not 0 < len(name) <= 100:
        raise ServiceError("invalid_name", "an app name has 1 to 100 characters")
    if _reads_as_code(ctx, name):
        raise ServiceError(
            "invalid_name",
            "an app name goes into the SMS text: it must hold nothing that reads as a code",
        )
    problem = callbacks.check_url(callback_url) if callback_url else None
    if problem:
        raise ServiceError("invalid_callback_url", problem)
    try:
        origins = tuple(returns.check_origin(o, ctx.policy.development) for o in return_origins)
    except returns.InvalidReturnUrl as exc:
        raise ServiceError("invalid_return_origin", f"return origin: {exc}") from None
    unknown = sorted(set(numbers) - set(ctx.policy.numbers))
    if unknown:
        raise ServiceError("unknown_number", f"not a configured number: {', '.join(unknown)}")
    policy = ctx.policy
    if ttl is not None and not policy.min_ttl <= ttl <= policy.max_ttl:
        raise ServiceError(
            "invalid_ttl", f"ttl must be between {policy.min_ttl} and {policy.max_ttl} seconds"
        )
    app = App(
        id="app_" + secrets.token_hex(8),
        name=name,
        callback_url=callback_url,
        callback_secret=callbacks.format_secret(secrets.token_bytes(32)),
        full_phone=full_phone,
        numbers=tuple(numbers),
        ttl=ttl,
        created_at=ctx.clock.now(),
        return_origins=origins,
    )
    ctx.store.add_app(app)
    return Registered(app, _new_key(ctx, app.id))


def _reads_as_code(ctx: Context, name: str) -> bool:
    """Tell whether the SMS text around a code, with this app's name, offers a code itself.

    Extraction ignores only the template's words and the operator's name; an app name that
    offered a code would make every SMS of the app look like a guess (and spend its sender's
    budget), so such names are refused.
    """
    policy = ctx.policy
    return any(
        candidates_in(policy, codes.render(policy.sms_format(lang), " ", name=name))
        for lang in policy.templates
    )


def list_apps(ctx: Context) -> list[tuple[App, int]]:
    """Return every stored app with its count of live keys."""
    counts = ctx.store.key_counts()
    return [(app, counts.get(app.id, 0)) for app in ctx.store.list_apps()]


def rotate_key(ctx: Context, app_id: str, keep_old: bool = False) -> str:
    """Give an app a new key and return it; the old keys stop working unless `keep_old`."""
    app = live_app(ctx, app_id)
    if not keep_old:
        ctx.store.revoke_app_keys(app.id, ctx.clock.now())
    return _new_key(ctx, app.id)


def rotate_secret(ctx: Context, app_id: str, grace: timedelta) -> str:
    """Give an app a new callback secret and return it; the old one also signs for `grace`."""
    app = live_app(ctx, app_id)
    secret = callbacks.format_secret(secrets.token_bytes(32))
    ctx.store.set_callback_secret(app.id, secret, app.callback_secret, ctx.clock.now() + grace)
    return secret


def revoke(ctx: Context, app_id: str) -> None:
    """Revoke an app and every key it holds; its challenges send no more callbacks."""
    live_app(ctx, app_id)
    ctx.store.revoke_app(app_id, ctx.clock.now())


def live_app(ctx: Context, app_id: str) -> App:
    """Return a stored, unrevoked app, or raise NotFound."""
    app = ctx.store.app(app_id)
    if app is None or app.revoked:
        raise NotFound("not_found", f"no live app {app_id}")
    return app


def app_for(ctx: Context, app_id: str | None) -> App:
    """Return the app a challenge records (the default app for none, or a vanished one)."""
    if app_id is None or app_id == DEFAULT_APP_ID:
        return ctx.default_app
    return ctx.store.app(app_id) or ctx.default_app


def caller(ctx: Context, key: str, configured: list[str]) -> Caller | None:
    """Return who presents an API key and for which app, or None for an invalid key."""
    identity = by_key(ctx, key, configured)
    if identity is None:
        return None
    if identity.startswith("config:"):
        return Caller(identity, ctx.default_app)
    app_id = ctx.store.api_key_app(api_key_hash(key))
    app = app_for(ctx, app_id)
    if app_id is None or app.revoked:
        return None
    return Caller(identity, app)


def _new_key(ctx: Context, app_id: str) -> str:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    ctx.store.add_app_key(api_key_hash(key), f"app {app_id}", app_id, ctx.clock.now())
    return key
