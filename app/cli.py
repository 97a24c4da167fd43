"""The `reverse-otp` command line."""

from __future__ import annotations

import json
import secrets
import shutil
import sys
from typing import Any

import click
import requests

from app import config


def _settings() -> config.Settings:
    try:
        return config.load()
    except config.ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _ctx() -> Any:
    from app import create_app
    from app.web.runtime import EXTENSION

    try:
        return create_app(_settings()).extensions[EXTENSION]
    except config.ConfigError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def main() -> None:
    """Reverse OTP phone verification server."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=None, type=int, help="Default: 1 on SQLite, 2 on PostgreSQL.")
@click.option("--dev", is_flag=True, help="Flask's development server with the reloader.")
def serve(host: str, port: int, workers: int | None, dev: bool) -> None:
    """Run the server (gunicorn, gevent workers)."""
    from app import create_app
    from app.serve import exec_patched, patched, prepare_metrics_dir
    from app.web.runtime import EXTENSION

    if not dev and not patched():
        exec_patched(sys.argv[1:])
    # After the re-exec (which would lose a folder made before it), before prometheus_client.
    temporary = None if dev else prepare_metrics_dir()

    settings = _settings()
    try:
        app = create_app(settings)  # in this process: refuse bad settings before forking
    except config.ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if dev:
        app.run(host=host, port=port, debug=True, use_reloader=True)
        return
    app.extensions[EXTENSION].ctx.store.dispose()
    from app.serve import default_workers, run, single_process_events

    count = workers or default_workers(settings.database.url)
    settings = single_process_events(settings, count)
    connections = settings.streams.worker_connections
    try:
        run(lambda: with_callback_worker(create_app(settings)), host, port, count, connections)
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)


def with_callback_worker(app: Any) -> Any:
    """Start the callback delivery thread in this (worker) process unless turned off."""
    from app import build_deliverer, delivery
    from app.web.runtime import EXTENSION

    rt = app.extensions[EXTENSION]
    if rt.settings.callbacks.worker:
        delivery.start(build_deliverer(rt.settings, rt.ctx), rt.settings.callbacks.poll_interval)
    return app


@main.command("init-db")
def init_db() -> None:
    """Create the database tables."""
    rt = _ctx()
    rt.ctx.store.create_schema()
    click.echo("database ready")


@main.command("create-api-key")
@click.option("--name", default="default", show_default=True, help="What the key is for.")
def create_api_key(name: str) -> None:
    """Create an API key and print it (it is shown only once)."""
    from app import services

    click.echo(services.create_api_key(_ctx().ctx, name))


@main.command("simulate-sms")
@click.option("--from", "sender", required=True, help="Sender number (E.164).")
@click.option("--text", required=True, help="SMS text.")
@click.option(
    "--to", "to", default=None, help="Virtual number; default the first simulator number."
)
@click.option("--url", default=None, help="Server base URL; default server.public_url.")
def simulate_sms(sender: str, text: str, to: str | None, url: str | None) -> None:
    """Sign an SMS and post it to the running server's simulator webhook."""
    from app.providers.simulator import HEADER, sign

    settings = _settings()
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
    target = (url or settings.server.public_url).rstrip("/") + "/webhooks/simulator"
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

    sections = _settings().providers
    enabled = {n for n, s in sections.items() if s.get("enabled", True) is not False}
    for name in sorted(REGISTRY):
        click.echo(f"{name}{'  (enabled)' if name in enabled else ''}")


from app.cli_apps import apps_group, callbacks_group  # noqa: E402 - after `main` exists

main.add_command(apps_group)
main.add_command(callbacks_group)
