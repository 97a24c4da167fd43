"""`reverse-otp apps ...` and `reverse-otp callbacks ...`: integrators, keys and callbacks."""

from __future__ import annotations

import json
from typing import Any

import click

from app.cli.runtime import failure, open_runtime


@click.group("apps")
def apps_group() -> None:
    """Manage apps (integrators), their API keys and callback settings."""


@apps_group.command("create")
@click.option("--name", required=True, help="Shown on the hosted page and in the SMS as {name}.")
@click.option("--callback-url", default=None, help="Where signed callbacks are POSTed.")
@click.option("--number", "numbers", multiple=True, help="A virtual number it may use (repeat).")
@click.option("--ttl", type=int, default=None, help="Default challenge lifetime, seconds.")
@click.option("--full-phone", is_flag=True, help="Show full verified numbers in callbacks.")
@click.option(
    "--return-origin",
    "return_origins",
    multiple=True,
    help="An origin (https://host[:port]) return_url may lead to (repeat).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def create(
    name: str,
    callback_url: str | None,
    numbers: tuple[str, ...],
    ttl: int | None,
    full_phone: bool,
    return_origins: tuple[str, ...],
    as_json: bool,
) -> None:
    """Create an app; print its API key and callback secret (shown only once)."""
    from app.usecases import apps, context

    try:
        with open_runtime() as rt:
            made = apps.register(
                rt.ctx, name, callback_url, numbers, ttl, full_phone, return_origins
            )
    except context.ServiceError as exc:
        raise failure(exc) from None
    shown = {
        "app_id": made.app.id,
        "name": made.app.name,
        "api_key": made.key,
        "callback_secret": made.app.callback_secret,
    }
    if as_json:
        click.echo(json.dumps(shown))
        return
    for label, value in shown.items():
        click.echo(f"{label}: {value}")
    click.echo("The API key and callback secret are shown only now: store them safely.")


@apps_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(as_json: bool) -> None:
    """List the apps (never their keys or secrets)."""
    from app.usecases import apps

    with open_runtime() as rt:
        listed = apps.list_apps(rt.ctx)
    rows: list[dict[str, Any]] = [
        {
            "app_id": app.id,
            "name": app.name,
            "callback_url": app.callback_url,
            "numbers": list(app.numbers),
            "ttl": app.ttl,
            "full_phone": app.full_phone,
            "return_origins": list(app.return_origins),
            "keys": keys,
            "revoked": app.revoked,
        }
        for app, keys in listed
    ]
    if as_json:
        click.echo(json.dumps(rows))
        return
    if not rows:
        click.echo("no apps yet; create one with `reverse-otp apps create --name <name>`")
    for row in rows:
        state = "revoked" if row["revoked"] else f"{row['keys']} key(s)"
        numbers = ",".join(row["numbers"]) or "all numbers"
        click.echo(
            f"{row['app_id']}  {row['name']}  {state}  {numbers}  "
            f"callback={row['callback_url'] or '-'}"
        )


@apps_group.command("rotate-key")
@click.argument("app_id")
@click.option("--keep-old", is_flag=True, help="Keep the old keys working (revoke them later).")
def rotate_key(app_id: str, keep_old: bool) -> None:
    """Give an app a new API key and print it (shown only once)."""
    from app.usecases import apps, context

    try:
        with open_runtime() as rt:
            key = apps.rotate_key(rt.ctx, app_id, keep_old)
    except context.ServiceError as exc:
        raise failure(exc) from None
    click.echo(key)


@apps_group.command("rotate-secret")
@click.argument("app_id")
@click.option(
    "--grace-hours",
    type=float,
    default=24.0,
    show_default=True,
    help="Hours the old secret keeps signing callbacks alongside the new one.",
)
def rotate_secret(app_id: str, grace_hours: float) -> None:
    """Give an app a new callback secret and print it (shown only once)."""
    from datetime import timedelta

    from app.usecases import apps, context

    try:
        with open_runtime() as rt:
            secret = apps.rotate_secret(rt.ctx, app_id, timedelta(hours=grace_hours))
    except context.ServiceError as exc:
        raise failure(exc) from None
    click.echo(secret)


@apps_group.command("revoke")
@click.argument("app_id")
def revoke(app_id: str) -> None:
    """Revoke an app and all its keys; its pending callbacks are abandoned."""
    from app.usecases import apps, context

    try:
        with open_runtime() as rt:
            apps.revoke(rt.ctx, app_id)
    except context.ServiceError as exc:
        raise failure(exc) from None
    click.echo(f"revoked {app_id}")
