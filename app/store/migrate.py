"""Schema migrations: bring a database to the current schema with Alembic.

The revisions live in `app/migrations/versions` and ship inside the package. An upgrade runs
in one transaction that first takes a lock (BEGIN IMMEDIATE on SQLite, an advisory lock on
PostgreSQL), so processes starting together upgrade one at a time and the later ones find
nothing to do. A database made by `create_all` (tables, no version) is stamped at the head
when it matches the tables, else at the baseline revision, then upgraded like any other.
"""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, DateTime, Engine, create_engine, inspect, text

from app.store.tables import UTCDateTime, metadata

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
BASELINE = "0001"
LOCK_KEY = 0x7265_7673_6F74_70  # "revsotp": one advisory lock for schema changes

log = logging.getLogger(__name__)


def alembic_config(url: str = "") -> Config:
    """Return an Alembic config for the packaged migrations (and `url`, when given)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    ruff = Path(sys.executable).with_name("ruff")
    if ruff.exists():
        cfg.set_section_option("post_write_hooks", "hooks", "ruff")
        cfg.set_section_option("post_write_hooks", "ruff.type", "exec")
        cfg.set_section_option("post_write_hooks", "ruff.executable", str(ruff))
        cfg.set_section_option(
            "post_write_hooks", "ruff.options", "format REVISION_SCRIPT_FILENAME"
        )
    return cfg


def head() -> str:
    """Return the newest revision the package ships."""
    found = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert found is not None
    return found


def current(engine: Engine) -> str | None:
    """Return the revision a database is at (None for an unversioned one)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Upgrade a database to `revision` in one locked transaction; return (before, after)."""
    cfg = alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        cfg.attributes["connection"] = conn
        before = MigrationContext.configure(conn).get_current_revision()
        if before is None and inspect(conn).has_table("challenges"):
            # Made by create_all before migrations: at the head if it matches the tables,
            # else taken as the first revision and upgraded from there.
            adopted = "head" if not _compare(conn) else BASELINE
            log.warning("database has tables but no version: stamping %s", adopted)
            command.stamp(cfg, adopted)
        command.upgrade(cfg, revision)
        after = MigrationContext.configure(conn).get_current_revision()
    if before != after:
        log.info("database upgraded from %s to %s", before or "empty", after)
    return before, after


def compare_type(
    _ctx: Any, _column: Any, inspected: Any, metadata_type: Any, _inspected_col: Any
) -> bool | None:
    """Compare UTCDateTime columns by their DateTime implementation; else Alembic's rules."""
    if isinstance(metadata_type, UTCDateTime):
        return not isinstance(inspected, DateTime)
    return None


def differences(engine: Engine) -> list[Any]:
    """Return what autogenerate finds between the database and the tables (empty: agree)."""
    with engine.connect() as conn:
        return _compare(conn)


def _compare(conn: Connection) -> list[Any]:
    opts = {"compare_type": compare_type, "compare_server_default": True}
    diffs: list[Any] = compare_metadata(MigrationContext.configure(conn, opts=opts), metadata)
    return diffs


def new_revision(message: str) -> Path:
    """Write a revision holding what the tables add to the newest migration; return its path.

    Autogenerate compares against a scratch SQLite database upgraded to the head, so no
    server is needed. Review the file: Alembic cannot see renames or data changes.
    """
    cfg = alembic_config()
    script = ScriptDirectory.from_config(cfg)
    number = f"{len(list(script.walk_revisions())) + 1:04d}"
    scratch = Path(tempfile.mkdtemp(prefix="reverse-otp-revision-"))
    engine = create_engine(f"sqlite:///{scratch / 'schema.db'}")
    try:
        upgrade(engine)
        with engine.connect() as conn:
            cfg.attributes["connection"] = conn
            made = command.revision(cfg, message, autogenerate=True, rev_id=number)
    finally:
        engine.dispose()
        shutil.rmtree(scratch, ignore_errors=True)
    assert made is not None and not isinstance(made, list)
    return Path(made.path)
