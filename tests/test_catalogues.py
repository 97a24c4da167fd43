"""One catalogue per language, each with exactly the English one's keys and placeholders."""

from __future__ import annotations

import json
import re
import string

import pytest

from app.domain import locales
from app.web import i18n

ENGLISH = json.loads((i18n.FOLDER / "en.json").read_text(encoding="utf-8"))


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_there_is_one_catalogue_per_language_and_no_other():
    assert sorted(p.stem for p in i18n.FOLDER.glob("*.json")) == sorted(locales.LANGUAGES)


@pytest.mark.parametrize("language", locales.LANGUAGES)
def test_every_catalogue_has_every_key_and_no_extra_key(language):
    words = json.loads((i18n.FOLDER / f"{language}.json").read_text(encoding="utf-8"))
    assert sorted(set(ENGLISH) - set(words)) == [], "missing"
    assert sorted(set(words) - set(ENGLISH)) == [], "extra"


@pytest.mark.parametrize("language", locales.LANGUAGES)
def test_every_entry_keeps_the_english_placeholders_and_is_translated_text(language):
    words = i18n.messages(language)
    for key, text in words.items():
        assert isinstance(text, str) and text.strip(), key
        assert placeholders(text) == placeholders(ENGLISH[key]), key
        assert not re.search(r"<[a-z/]", text), key  # text only: templates escape it


def test_keys_the_templates_use_are_in_the_catalogue():
    used = set()
    for path in (i18n.FOLDER.parents[2] / "templates").rglob("*.html"):
        used |= set(re.findall(r"\bt\.([a-z_]+)", path.read_text()))
        used |= set(re.findall(r"\bt\[\"([a-z_]+)\"\]", path.read_text()))
    assert used and used <= set(ENGLISH)
