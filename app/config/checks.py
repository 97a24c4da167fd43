"""Checks on loaded settings: refusals (weak or example credentials, development
in production, unusable database URLs) and the error that names the problem.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from app.config.schema import Settings
from app.domain import codes, testnumbers


class ConfigError(Exception):
    """Settings cannot be used; the message names the key and what to set."""


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


def check_test_numbers(settings: Settings) -> None:
    """Refuse a `[[test_numbers]]` entry that could verify a real person's phone, or a phone
    listed twice; the message names the entry (never its code)."""
    seen: set[str] = set()
    for i, entry in enumerate(settings.test_numbers):
        if entry.phone in seen:
            raise ConfigError(f"test_numbers[{i}]: {entry.phone} is listed twice")
        seen.add(entry.phone)
        problem = None if entry.allow_real else testnumbers.real_problem(entry.phone)
        if problem:
            raise ConfigError(
                f"test_numbers[{i}]: {problem}; use a reserved fictional range "
                f"({testnumbers.RANGES_HELP}) or set allow_real = true for this entry"
            )


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
        "App Dashboard > App settings > Basic > App secret",
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
    for i, section in enumerate(settings.senders):
        found += _strings(f"senders[{i}]", section)
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
    dev = Path(settings.server.instance_dir) / DEV_DATABASE
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
