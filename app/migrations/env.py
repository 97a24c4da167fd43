"""Alembic environment: the store's tables are the target, the URL comes from the settings.

`app.store.migrate` runs this with an open connection in `config.attributes["connection"]`
(already inside the transaction the whole upgrade runs in). Run by the `alembic` command
instead, it reads the URL from the settings like the server does.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy import Connection, create_engine

from app.store.migrate import compare_type
from app.store.tables import UTCDateTime, metadata


def render_item(kind: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Write the store's UTC datetime type as a plain timezone-aware DateTime."""
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        compare_type=compare_type,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        from app import config

        url = config.load().database.url
    engine = create_engine(url)
    with engine.connect() as conn:
        run(conn)
    engine.dispose()


main()
