"""The `reverse-otp` command line."""

from __future__ import annotations

import errno
import json
import logging
import os
import secrets
import shutil
import socket
import sys
from pathlib import Path
from typing import Any

import click
import requests
from sqlalchemy import Engine

from app import config
from app.cli.apps import apps_group
from app.cli.callbacks import callbacks_group
from app.cli.runtime import build_runtime, load_settings, say_instance
from app.config import checks, places, schema


class Commands(click.Group):
    """The command group; a database that cannot be reached is one line, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        from sqlalchemy.exc import DBAPIError

        try:
            return super().invoke(ctx)
        except DBAPIError as exc:
            raise click.ClickException(_database_error(exc)) from None


def _database_error(exc: Any) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(load_settings().database.url).render_as_string(hide_password=True)
    detail = " ".join(str(exc.orig).split()) if exc.orig is not None else type(exc).__name__
    return f"database.url: cannot connect to {url}: {detail}"


@click.group(cls=Commands)
@click.version_option(package_name="reverse-otp", prog_name="reverse-otp")
@click.option("-v", "--verbose", is_flag=True, help="Also log the migrations and start-up steps.")
@click.option(
    "-c",
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, resolve_path=True),
    help="Settings file (default: REVERSE_OTP_CONFIG, else ./config.toml when present).",
)
@click.pass_context
def main(context: click.Context, verbose: bool, config_file: str | None) -> None:
    """Reverse OTP phone verification server."""
    if config_file:
        # Through the environment, so the re-executed `serve` and its workers read it too.
        os.environ[places.CONFIG_VARIABLE] = config_file
    if verbose:
        return
    # Quiet by default: the schema migrations log a dozen INFO lines on every start, and a
    # one-off command prints its answer, not the server's start-up log.
    _quieter(context, "alembic", logging.WARNING)
    if context.invoked_subcommand != "serve":
        _quieter(context, "app", logging.ERROR)


def _quieter(context: click.Context, name: str, level: int) -> None:
    """Raise a logger's level for this command; put it back when the command ends."""
    logger = logging.getLogger(name)
    before = logger.level
    logger.setLevel(max(level, before))
    context.call_on_close(lambda: logger.setLevel(before))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=None, type=int, help="Default: 1 on SQLite, 2 on PostgreSQL.")
@click.option(
    "--dev",
    is_flag=True,
    help="Flask's development server with the reloader and debugger (development mode only).",
)
def serve(host: str, port: int, workers: int | None, dev: bool) -> None:
    """Run the server (gunicorn, gevent workers)."""
    from app import create_app
    from app.cli.server import exec_patched, patched, prepare_metrics_dir
    from app.runtime import EXTENSION

    if not dev and not patched():
        exec_patched(sys.argv[1:])
    if not os.environ.get("WERKZEUG_RUN_MAIN"):  # the reloader's child: its parent holds it
        _check_port_free(host, port)
    # After the re-exec (which would lose a folder made before it), before prometheus_client.
    temporary = None if dev else prepare_metrics_dir()

    # Said once the settings are accepted, so that a refusal stays one line.
    settings = config.for_address(load_settings(announce=False), host, port)
    if dev and not settings.development:
        # The Werkzeug debugger runs any Python a visitor types: never on production settings.
        raise click.ClickException(
            '--dev (Werkzeug debugger and reloader) is refused with server.mode = "production"; '
            "run `reverse-otp serve` without --dev"
        )
    mismatch = config.port_mismatch(settings, port)
    if mismatch and not settings.development:
        click.echo(f"Warning: {mismatch}", err=True)
    served = _write_served_url(settings, host, port)
    try:
        app = create_app(settings)  # in this process: refuse bad settings before forking
    except checks.ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    say_instance(settings)
    if settings.development:
        _development_urls(settings)
    if dev:
        app.run(host=host, port=port, debug=True, use_reloader=True)
        return
    app.extensions[EXTENSION].ctx.store.dispose()
    from app.cli.server import default_workers, peer_cap, run, single_process_events

    count = workers or default_workers(settings.database.url)
    settings = single_process_events(settings, count)
    connections = settings.streams.worker_connections
    try:
        run(
            lambda: create_app(settings),
            host,
            port,
            count,
            connections,
            peer_cap(settings),
        )
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
        if served is not None:
            served.unlink(missing_ok=True)


def _development_urls(settings: schema.Settings) -> None:
    base = settings.server.public_url
    admin = (
        "log in with the [admin] key"
        if settings.admin.key
        else "set REVERSE_OTP_ADMIN__KEY=<a long random string> to open it, then log in with it"
    )
    lines = [
        f"reverse-otp (development) at {base}",
        f"  {base}/            demo page",
        f"  {base}/dev/phone   phone simulator",
        f"  {base}/docs        API documentation",
        f"  {base}/admin       dashboard: {admin}",
    ]
    click.echo("\n".join(lines), err=True)


def _check_port_free(host: str, port: int) -> None:
    """Refuse at once, in one line, a port another process already listens on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise click.ClickException(
                    f"port {port} on {host} is already in use (another server?); "
                    "choose another with --port"
                ) from None
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _write_served_url(settings: schema.Settings, host: str, port: int) -> Path | None:
    """In development, leave the served URL in the instance folder for `simulate-sms`."""
    if not settings.development:
        return None
    path = Path(settings.server.instance_dir) / config.SERVED_URL_FILE
    path.write_text(config.served_url(host, port) + "\n")
    return path


def _simulator_url(settings: schema.Settings) -> str:
    """The running development server's URL when it left one, else server.public_url."""
    if "public_url" not in settings.server.model_fields_set:
        path = Path(settings.server.instance_dir) / config.SERVED_URL_FILE
        if path.is_file():
            return path.read_text().strip()
    return settings.server.public_url


@main.group()
def db() -> None:
    """The database schema: Alembic migrations shipped in the package."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def db_upgrade(revision: str) -> None:
    """Bring the database to the current schema (safe to run again: it changes nothing)."""
    from app.store import migrate

    engine = _writer()
    try:
        before, after = migrate.upgrade(engine, revision)
    finally:
        engine.dispose()
    if before == after:
        click.echo(f"database ready: already at {after}")
    else:
        click.echo(f"database ready: upgraded from {before or 'empty'} to {after}")


@db.command("current")
def db_current() -> None:
    """Print the database's revision and the newest one this version ships."""
    from app.store import migrate

    engine = _writer()
    try:
        click.echo(f"database: {migrate.current(engine) or 'none'}  package head: {migrate.head()}")
    finally:
        engine.dispose()


@db.command("check")
def db_check() -> None:
    """Compare the database with the tables the code defines; exit 1 if they differ."""
    from app.store import migrate

    engine = _writer()
    try:
        diffs = migrate.differences(engine)
    finally:
        engine.dispose()
    for diff in diffs:
        click.echo(repr(diff))
    if diffs:
        sys.exit(1)
    click.echo("database matches the tables")


@db.command("revision")
@click.option("-m", "--message", required=True, help="What the revision changes.")
def db_revision(message: str) -> None:
    """Write a new migration from what app/store/tables.py adds (in a source checkout)."""
    from app.store import migrate

    click.echo(f"wrote {migrate.new_revision(message)}; review it before committing")


@main.command("init-db")
@click.pass_context
def init_db(context: click.Context) -> None:
    """Same as `db upgrade`."""
    context.invoke(db_upgrade)


@main.command()
@click.option("--max-age-days", type=click.IntRange(min=1), help="Default [retention].")
@click.option("--batch-size", type=click.IntRange(min=1), help="Default [retention].")
def purge(max_age_days: int | None, batch_size: int | None) -> None:
    """Delete challenges and inbound messages older than [retention] max_age_days."""
    from datetime import timedelta

    from app.usecases import challenges

    rt = build_runtime()
    retention = rt.settings.retention
    days = max_age_days or retention.max_age_days
    deleted = challenges.purge_old(rt.ctx, timedelta(days=days), batch_size or retention.batch_size)
    click.echo(f"deleted {deleted} rows older than {days} days")


def _writer() -> Engine:
    from app.store.sql import make_engines

    writer, reader = make_engines(load_settings().database.url, pool_size=1)
    if reader is not writer:
        reader.dispose()
    return writer


@main.command("create-api-key")
@click.option("--name", default="default", show_default=True, help="What the key is for.")
def create_api_key(name: str) -> None:
    """Create an API key and print it (it is shown only once)."""
    from app.usecases import api_keys

    click.echo(api_keys.create_api_key(build_runtime().ctx, name))


@main.command("simulate-sms")
@click.option("--from", "sender", required=True, help="Sender number (E.164).")
@click.option("--text", required=True, help="SMS text.")
@click.option(
    "--to", "to", default=None, help="Virtual number; default the first simulator number."
)
@click.option(
    "--url", default=None, help="Server base URL; default the running development server."
)
def simulate_sms(sender: str, text: str, to: str | None, url: str | None) -> None:
    """Sign an SMS and post it to the running server's simulator webhook."""
    from app.providers.simulator import HEADER, sign

    settings = load_settings()
    section = settings.providers.get("simulator")
    if not section or not section.get("secret"):
        raise click.ClickException("the simulator is not enabled: set [providers.simulator] secret")
    if to is None:
        mine = [n.number for n in settings.numbers if n.provider == "simulator"]
        if not mine:
            raise click.ClickException("no [[numbers]] entry uses the simulator; pass --to")
        to = mine[0]
    payload = {"from": sender, "to": to, "text": text, "id": "sim-" + secrets.token_hex(8)}
    body = json.dumps(payload).encode()
    target = (url or _simulator_url(settings)).rstrip("/") + "/webhooks/simulator"
    headers = {"Content-Type": "application/json", HEADER: sign(section["secret"], body)}
    try:
        response = requests.post(target, data=body, headers=headers, timeout=10)
    except requests.RequestException as exc:
        raise click.ClickException(f"cannot reach {target}: {exc}") from None
    click.echo(f"{response.status_code} {response.text.strip()}")
    if response.status_code >= 400:
        sys.exit(1)


@main.command()
def providers() -> None:
    """List the provider adapters, marking the enabled ones."""
    from app.providers import REGISTRY

    sections = load_settings().providers
    enabled = {n for n, s in sections.items() if s.get("enabled", True) is not False}
    for name in sorted(REGISTRY):
        click.echo(f"{name}{'  (enabled)' if name in enabled else ''}")


main.add_command(apps_group)
main.add_command(callbacks_group)
