"""Build what a command needs: the settings, the app's runtime."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import click

from app import config
from app.config import checks, schema
from app.runtime import EXTENSION, Runtime

_told: list[str] = []


def load_settings(announce: bool = True) -> schema.Settings:
    """Load the settings; the first time, say on stderr which instance folder they use."""
    try:
        settings = config.load()
    except checks.ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if announce:
        say_instance(settings)
    return settings


def say_instance(settings: schema.Settings) -> None:
    """Say once, on stderr, which instance folder the settings use and why."""
    line = config.instance_line(settings)
    # Once per process (the reloader's child of `serve --dev` has said it in its parent);
    # on stderr, so that what a command prints on stdout stays its answer alone.
    if line not in _told and not os.environ.get("WERKZEUG_RUN_MAIN"):
        _told.append(line)
        click.echo(line, err=True)


def build_runtime() -> Runtime:
    from app import create_app

    try:
        found: Runtime = create_app(load_settings()).extensions[EXTENSION]
        return found
    except checks.ConfigError as exc:
        raise click.ClickException(str(exc)) from None


@contextmanager
def open_runtime() -> Iterator[Runtime]:
    """Build the app's runtime for one command and close its database connections after."""
    rt = build_runtime()
    try:
        yield rt
    finally:
        rt.ctx.store.dispose()


def failure(exc: Exception) -> click.ClickException:
    return click.ClickException(getattr(exc, "message", str(exc)))
