"""Fast bulk seeding of pending challenges and pre-signed webhook bodies for the benchmarks."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app.crypto import KeyRing
from app.domain import codes
from app.providers.simulator import sign

SENDER = "+14155552671"
EXPECTED = "+14155552672"  # background challenges expect this phone; webhooks come from SENDER
SEALED = os.urandom(40)
CHUNK = 20_000


def code_for(n: int) -> str:
    """Return the n-th six-character Crockford code (distinct for distinct n < 32**6)."""
    out = []
    for _ in range(6):
        n, digit = divmod(n, 32)
        out.append(codes.CROCKFORD[digit])
    return "".join(reversed(out))


COLUMNS = [
    "id", "number", "code_hash", "token_hash", "code_sealed", "phone", "status", "attempts",
    "max_attempts", "created_at", "expires_at", "renewals", "metadata",
]  # fmt: skip


def rows(
    secret: str, number: str, first: int, count: int, background: bool
) -> Iterator[tuple[Any, ...]]:
    """Yield challenge rows in COLUMNS order, times as naive UTC (what the store writes)."""
    keys = KeyRing([secret.encode()])
    now = datetime.now(UTC).replace(tzinfo=None)
    created, expires = str(now), str(now + timedelta(days=1))
    phone = EXPECTED if background else None
    # Background challenges absorb wrong-sender attempts and stay pending.
    limit = 2_000_000_000 if background else 5
    for n in range(first, first + count):
        code_hash = keys.digest("code", f"{number}:{code_for(n)}")
        yield (
            f"ch_bench_{n}", number, code_hash, f"bench-token-{n}", SEALED, phone, "pending",
            0, limit, created, expires, 0, "{}",
        )  # fmt: skip


def seed(
    url: str, secret: str, number: str, first: int, count: int, background: bool = False
) -> None:
    """Insert `count` pending challenges with codes code_for(first..first+count-1)."""
    source = rows(secret, number, first, count, background)
    if url.startswith("postgresql"):
        _copy_postgres(url, source)
    else:
        _insert_sqlite(url, source)


def _insert_sqlite(url: str, source: Iterator[tuple[Any, ...]]) -> None:
    import sqlite3

    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    marks = ", ".join("?" for _ in COLUMNS)
    with conn:
        conn.executemany(f"INSERT INTO challenges ({', '.join(COLUMNS)}) VALUES ({marks})", source)
    conn.close()


def _copy_postgres(url: str, source: Iterator[tuple[Any, ...]]) -> None:
    import psycopg

    statement = f"COPY challenges ({', '.join(COLUMNS)}) FROM STDIN"
    sealed = "\\\\x" + SEALED.hex()
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur, cur.copy(statement) as copy:
        chunk: list[str] = []
        for row in source:
            values = ["\\N" if v is None else str(v) for v in row]
            values[4] = sealed
            values[9] += "+00"
            values[10] += "+00"
            chunk.append("\t".join(values))
            if len(chunk) == CHUNK:
                copy.write("\n".join(chunk) + "\n")
                chunk = []
        if chunk:
            copy.write("\n".join(chunk) + "\n")


def bodies(
    path: Path, sim_secret: str, number: str, codes_from: range, count: int, tag: str
) -> Path:
    """Write `count` signed webhook bodies, each a new message id, codes drawn from a range.

    With a range as long as `count`, each body carries a different code in order.
    """
    rng = random.Random(tag)
    ordered = len(codes_from) == count
    with path.open("w") as out:
        for i in range(count):
            n = codes_from[i] if ordered else rng.choice(codes_from)
            sender = f"+1415{2000000 + rng.randrange(10000) * 37:07d}"  # valid, varied
            body = json.dumps(
                {"from": sender, "to": number, "text": f"VERIFY {code_for(n)}", "id": f"{tag}-{i}"},
                separators=(",", ":"),
            )
            out.write(f"{sign(sim_secret, body.encode())}\t{body}\n")
    return path
