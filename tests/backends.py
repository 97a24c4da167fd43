"""The servers the tests use besides the app's own files: Redis here, PostgreSQL in engines.py.

Where one is missing, a developer's run skips the tests that need it; a CI run (CI set, as CI
services set it) fails them instead, since CI provides every server and a skip there would
hide a test that never ran.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

REDIS_URL = os.environ.get("REVERSE_OTP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def missing(what: str, error: BaseException) -> NoReturn:
    """Skip the test because `what` is unavailable, or in CI fail it with `error`."""
    if os.environ.get("CI"):
        raise error
    pytest.skip(f"{what}: {error}")


def require_redis(url: str = REDIS_URL) -> None:
    """Return when the Redis at `url` answers a ping; else skip (or fail in CI)."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        missing("Redis is not reachable", exc)
    finally:
        client.close()
