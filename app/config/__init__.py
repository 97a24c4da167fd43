"""The one settings schema: every key has a type, a default and a line of help.

Settings come from a TOML file (path in REVERSE_OTP_CONFIG, else ./config.toml when present),
then environment variables override single keys: REVERSE_OTP_<SECTION>__<KEY>, for example
REVERSE_OTP_DATABASE__URL or REVERSE_OTP_PROVIDERS__TWILIO__AUTH_TOKEN. Values are read as
TOML values when they parse ("6", "true", '["a", "b"]'), else as plain strings.

With no file at all the server runs in development mode: SQLite in the instance folder, a
generated secret kept there, the SMS simulator and one demo number. The instance folder
([server] instance_dir) never follows the current directory: places.py says where it is.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from app.config import places
from app.config.checks import (
    DEV_DATABASE,
    ConfigError,
    _check_code_strength,
    _check_credentials,
    _refuse_development_in_production,
    _refuse_examples,
    check_test_numbers,
    database_problem,
    weak_secret,
)
from app.config.schema import Settings
from app.config.sections import Number

ENV_PREFIX = "REVERSE_OTP_"
DEMO_NUMBER = "+15017122661"


def load(
    overrides: dict[str, Any] | None = None, environ: dict[str, str] | None = None
) -> Settings:
    """Read settings from the file, the environment and `overrides`, in rising priority."""
    env = dict(os.environ if environ is None else environ)
    found = places.locate(env)
    raw, from_file = _read_file(env, found)
    _merge(raw, _renamed(_from_environ(env)))
    _merge(raw, _renamed(overrides or {}))
    if not from_file:
        raw.setdefault("server", {}).setdefault("mode", "development")
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_explain(exc)) from None
    _check_code_strength(settings)
    check_test_numbers(settings)
    settings = _placed(settings, found)
    if settings.development:
        _refuse_development_in_production(settings)
        settings = _with_defaults(settings)
    else:
        settings = _checked(settings)
    problem = database_problem(settings.database.url)
    if problem:
        raise ConfigError(f"database.url: {problem}")
    return settings


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


def instance_line(settings: Settings, environ: dict[str, str] | None = None) -> str:
    """Say, in one line, which instance folder these settings use and why."""
    env = dict(os.environ if environ is None else environ)
    return places.describe(settings.server.instance_dir, places.locate(env), env)


def _placed(settings: Settings, found: places.Places) -> Settings:
    """Make the instance folder absolute, relative to the settings file or the checkout."""
    folder = str(found.instance(settings.server.instance_dir))
    server = settings.server.model_copy(update={"instance_dir": folder})
    return settings.model_copy(update={"server": server})


def _read_file(env: dict[str, str], found: places.Places) -> tuple[dict[str, Any], bool]:
    named = env.get(places.CONFIG_VARIABLE)
    path = found.config_file
    if path is None:
        if named:
            raise ConfigError(f"{places.CONFIG_VARIABLE} names {named}, which is not a file")
        return {}, False
    try:
        return _renamed(tomllib.loads(path.read_text())), True
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _renamed(raw: dict[str, Any]) -> dict[str, Any]:
    """Read [server] instance_path, the former name of instance_dir, as instance_dir."""
    server = raw.get("server")
    if isinstance(server, dict) and "instance_path" in server:
        raw = raw | {"server": dict(server)}
        raw["server"].setdefault("instance_dir", raw["server"].pop("instance_path"))
        raw["server"].pop("instance_path", None)
    return raw


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
    instance = Path(settings.server.instance_dir)
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
    if settings.proofs.enabled and not settings.proofs.has_key:
        raise ConfigError(
            "proofs.key_file: proofs are enabled but no signing key is set; name a PEM file"
            " (proofs.key_file) or pass the PEM in REVERSE_OTP_PROOFS__KEY"
        )
    return settings


def _instance_secret(path: Path) -> str:
    if path.is_file():
        return path.read_text().strip()
    value = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(value + "\n")
    return value


def _derived(secret: str, purpose: str) -> str:
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).hexdigest()
