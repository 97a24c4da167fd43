"""The words of the hosted pages, one catalogue per language (app/web/locales/<lang>.json).

The language of a challenge's page and SMS is the one its creator asked for (`locale`), else
the best of the browser's Accept-Language among the enabled languages, else the operator's
default. Every catalogue has exactly the keys of the English one (a test checks it).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from werkzeug.datastructures import LanguageAccept

from app.domain import locales
from app.usecases.context import Policy

FOLDER = Path(__file__).resolve().parent / "locales"
LANGUAGES = locales.LANGUAGES


@functools.cache
def messages(language: str) -> dict[str, str]:
    """Return a language's catalogue (English for a language without one)."""
    name = language if language in LANGUAGES else locales.DEFAULT_LANGUAGE
    with (FOLDER / f"{name}.json").open(encoding="utf-8") as file:
        words: dict[str, str] = json.load(file)
    return words


def choose(
    accept: LanguageAccept, enabled: tuple[str, ...] = LANGUAGES, default: str = "en"
) -> str:
    """Return the best enabled language for an Accept-Language header (`default` if none)."""
    found = accept.best_match(enabled)
    if found is None:  # "fr-CA" alone matches no "fr" in werkzeug: try primary subtags
        for tag, _ in accept:
            found = locales.resolve(tag, enabled)
            if found:
                break
    return found or default


def language(policy: Policy, locale: str | None, accept: LanguageAccept) -> str:
    """Return a challenge's language: its `locale`, else the browser's, else the default."""
    if locale in policy.languages:
        return locale
    return choose(accept, policy.languages, policy.default_language)
