"""API keys: create, store only a digest, authenticate."""

from __future__ import annotations

import hashlib
import secrets

from app.usecases.context import Context


def api_key_hash(key: str) -> str:
    """Return the stored form of an API key (keys are long random strings: SHA-256 suffices)."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(ctx: Context, name: str) -> str:
    """Create an API key, store only its hash, and return it (it is shown once)."""
    key = "rotp_" + secrets.token_urlsafe(32)
    ctx.store.add_api_key(api_key_hash(key), name, ctx.clock.now())
    return key


def authenticate(ctx: Context, key: str, configured: list[str]) -> str | None:
    """Return the identity of a presented API key ("config:<n>" or "key:<hash prefix>"), or None.

    Configured keys are compared as SHA-256 digests in constant time; stored keys are looked
    up by digest, so no key is ever compared or kept in plaintext.
    """
    if not key or len(key) > 200:
        return None
    digest = api_key_hash(key)
    found: str | None = None
    for index, candidate in enumerate(configured):
        if secrets.compare_digest(api_key_hash(candidate), digest):
            found = f"config:{index}"
    if found is None and ctx.store.api_key_valid([digest]):
        found = f"key:{digest[:16]}"
    return found
