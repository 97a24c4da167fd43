"""Fast bulk seeding of pending challenges and pre-signed webhook bodies for the benchmarks."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert

from app.crypto import KeyRing
from app.domain import codes
from app.providers.simulator import sign
from app.store.sql import from_challenge
from app.store.tables import challenges
from app.domain.challenges import Challenge

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


def rows(
    secret: str, number: str, first: int, count: int, background: bool
) -> Iterator[dict[str, Any]]:
    keys = KeyRing([secret.encode()])
    now = datetime.now(UTC)
    for n in range(first, first + count):
        code = code_for(n)
        yield from_challenge(
            Challenge(
                id=f"ch_bench_{n}",
                number=number,
                code_hash=keys.digest("code", f"{number}:{code}"),
                token_hash=f"bench-token-{n}",
                code_sealed=SEALED,
                phone=EXPECTED if background else None,
                # Background challenges absorb wrong-sender attempts and stay pending.
                max_attempts=2_000_000_000 if background else 5,
                created_at=now,
                expires_at=now + timedelta(days=1),
            )
        )


def seed(
    url: str, secret: str, number: str, first: int, count: int, background: bool = False
) -> None:
    """Insert `count` pending challenges with codes code_for(first..first+count-1)."""
    if url.startswith("postgresql"):
        _copy_postgres(url, rows(secret, number, first, count, background))
        return
    engine = create_engine(url)
    batch: list[dict[str, Any]] = []
    with engine.begin() as conn:
        for row in rows(secret, number, first, count, background):
            batch.append(row)
            if len(batch) == CHUNK:
                conn.execute(insert(challenges), batch)
                batch = []
        if batch:
            conn.execute(insert(challenges), batch)
    engine.dispose()


def _copy_postgres(url: str, source: Iterator[dict[str, Any]]) -> None:
    import psycopg

    columns = [c.name for c in challenges.columns]
    statement = f"COPY challenges ({', '.join(columns)}) FROM STDIN"
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        with conn.cursor() as cur, cur.copy(statement) as copy:
            for row in source:
                row["metadata"] = json.dumps(row["metadata"])
                copy.write_row([row[c] for c in columns])


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
