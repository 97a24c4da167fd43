"""Languages: BCP 47 tags, the languages pages and SMS are written in, and the SMS texts.

The SMS text of each language lives here, in the pure core, because extraction depends on it:
every fixed word of every enabled language's text is ignored when an SMS is read, and codes
are never drawn to start with one of them (see codes.usable_space).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from app.domain import codes

# Every language the hosted page and the SMS are written in; the page's words are in
# app/web/locales/<language>.json.
LANGUAGES = ("en", "fr", "es", "de", "pt", "it", "ar")
RIGHT_TO_LEFT = frozenset({"ar"})
DEFAULT_LANGUAGE = "en"
MAX_TAG_LENGTH = 35

# The SMS text per language. The keyword comes first, so extraction finds the code after it;
# no fixed word is a single letter of the code alphabet, which would cost code space.
SMS_TEMPLATES = {
    "en": "VERIFY {code} to sign in to {name}",
    "fr": "VERIFIER {code} pour vous connecter à {name}",
    "es": "VERIFICAR {code} para entrar en {name}",
    "de": "BESTÄTIGEN {code} zur Anmeldung bei {name}",
    "pt": "VERIFICAR {code} para entrar em {name}",
    "it": "VERIFICA {code} per entrare in {name}",
    "ar": "تحقق {code} لتسجيل الدخول إلى {name}",
}

# RFC 5646 (BCP 47) language tags: a 2-3 letter language (with up to three extlang subtags)
# or a 4-8 letter one, then optional script, region, variants, extensions and private use;
# or a private-use tag on its own. Grandfathered tags are refused.
_TAG = re.compile(
    r"""
    (?:
      (?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})  # language, extlang
      (?:-[a-z]{4})?                                # script
      (?:-(?:[a-z]{2}|[0-9]{3}))?                   # region
      (?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*      # variants
      (?:-[0-9a-wy-z](?:-[a-z0-9]{2,8})+)*          # extensions
      (?:-x(?:-[a-z0-9]{1,8})+)?                    # private use
    |
      x(?:-[a-z0-9]{1,8})+
    )
    """,
    re.VERBOSE | re.IGNORECASE | re.ASCII,
)


class InvalidTag(ValueError):
    """A locale is not a well-formed BCP 47 language tag."""


def check_tag(tag: str) -> str:
    """Return a well-formed BCP 47 tag as given (underscores read as hyphens), or raise."""
    cleaned = tag.replace("_", "-")
    if not cleaned or len(cleaned) > MAX_TAG_LENGTH or not _TAG.fullmatch(cleaned):
        raise InvalidTag("locale must be a BCP 47 language tag, such as en, fr-CA or pt-BR")
    return cleaned


def resolve(tag: str, enabled: Iterable[str]) -> str | None:
    """Return the enabled language a well-formed tag asks for (its primary subtag), else None.

    `fr-CA` and `fr-Latn-FR` give `fr`; `zh-Hant` gives None when Chinese is not enabled.
    """
    primary = tag.split("-", 1)[0].lower()
    return primary if primary in set(enabled) else None


def direction(language: str) -> str:
    """Return the writing direction of a language: "rtl" or "ltr"."""
    return "rtl" if language in RIGHT_TO_LEFT else "ltr"


def sms_templates(template: str, languages: Iterable[str]) -> dict[str, str]:
    """Return the SMS text of each language: the localized ones while the configured template
    is the default, else the operator's own template in every language."""
    localized = template == codes.DEFAULT_TEMPLATE
    return {lang: SMS_TEMPLATES[lang] if localized else template for lang in languages}


def fixed_words(fmt: codes.CodeFormat, templates: Iterable[str], name: str) -> frozenset[str]:
    """Return the folded fixed words of every SMS text (the operator's name filled in), which
    extraction ignores and codes never start with."""
    found: set[str] = set()
    for template in templates:
        text = codes.render(replace(fmt, template=template), "{code}", name=name)
        found |= codes.template_words(text, fmt.alphabet)
    return frozenset(found)
