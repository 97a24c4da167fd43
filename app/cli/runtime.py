"""Build what a command needs: the settings, the app's runtime."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from app import config
from app.config import checks, schema


def load_settings() -> schema.Settings:
    try:
        return config.load()
    except checks.ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def build_runtime() -> Any:
    from app import create_app
    from app.runtime import EXTENSION

    try:
        return create_app(load_settings()).extensions[EXTENSION]
    except checks.ConfigError as exc:
        raise click.ClickException(str(exc)) from None


@contextmanager
def open_runtime() -> Iterator[Any]:
    """Build the app's runtime for one command and close its database connections after."""
    rt = build_runtime()
    try:
        yield rt
    finally:
        rt.ctx.store.dispose()


def failure(exc: Exception) -> click.ClickException:
    return click.ClickException(getattr(exc, "message", str(exc)))
