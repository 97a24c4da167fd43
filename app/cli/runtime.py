"""Build what a command needs: the settings, the app's runtime."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from app import config
from app.config import checks, schema
from app.runtime import EXTENSION, Runtime


def load_settings() -> schema.Settings:
    try:
        return config.load()
    except checks.ConfigError as exc:
        raise click.ClickException(str(exc)) from None


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
