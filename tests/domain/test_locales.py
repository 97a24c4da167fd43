"""Language tags, the languages' SMS texts and what extraction makes of them."""

from __future__ import annotations

import pytest

from app.domain import codes, locales


@pytest.mark.parametrize(
    "tag", ["en", "fr-CA", "pt_BR", "zh-Hant-TW", "de-CH-1996", "sr-Latn-RS", "x-private", "ast"]
)
def test_well_formed_tags_are_accepted(tag):
    assert locales.check_tag(tag) == tag.replace("_", "-")


@pytest.mark.parametrize(
    "tag",
    ["", "e", "english!", "fr--CA", "-fr", "fr-", "12", "fr CA", "fr-C", "a" * 36, "<script>",
     "fr-CA-", "é", "i-klingon", "fr\n"],
)  # fmt: skip
def test_malformed_tags_are_refused(tag):
    with pytest.raises(locales.InvalidTag):
        locales.check_tag(tag)


@pytest.mark.parametrize(
    ("tag", "language"),
    [("fr", "fr"), ("fr-CA", "fr"), ("PT-br", "pt"), ("ar-EG", "ar"), ("zh-Hant", None),
     ("x-private", None), ("de", None)],
)  # fmt: skip
def test_a_tag_resolves_to_its_enabled_primary_language(tag, language):
    assert locales.resolve(tag, ("en", "fr", "pt", "ar")) == language


def test_arabic_is_written_right_to_left_and_the_others_left_to_right():
    assert [lang for lang in locales.LANGUAGES if locales.direction(lang) == "rtl"] == ["ar"]


def test_every_language_has_an_sms_text_with_the_code_first_among_its_placeholders():
    assert set(locales.SMS_TEMPLATES) == set(locales.LANGUAGES)
    for template in locales.SMS_TEMPLATES.values():
        assert template.index("{code}") < template.index("{name}")
        assert template.split()[1] == "{code}"  # the keyword, then the code


def test_no_fixed_word_of_any_language_is_a_single_code_character():
    words = locales.fixed_words(codes.CodeFormat(6), locales.SMS_TEMPLATES.values(), "Shop")
    short = [w for w in words if len(w) < 2 and all(c in codes.CROCKFORD for c in w)]
    assert short == []


def test_a_custom_template_is_used_in_every_language():
    custom = "CODE {code} for {name}"
    assert set(locales.sms_templates(custom, ("en", "fr")).values()) == {custom}
    localized = locales.sms_templates(codes.DEFAULT_TEMPLATE, ("en", "fr"))
    assert localized == {"en": locales.SMS_TEMPLATES["en"], "fr": locales.SMS_TEMPLATES["fr"]}


@pytest.mark.parametrize("language", locales.LANGUAGES)
def test_each_languages_sms_offers_its_code_and_nothing_else(language):
    fmt = codes.CodeFormat(6)
    ignore = locales.fixed_words(fmt, locales.SMS_TEMPLATES.values(), "Example Shop")
    text = (
        locales.SMS_TEMPLATES[language]
        .replace("{code}", "7KQ2ZD")
        .replace("{name}", "Example Shop")
    )
    assert codes.extract(text, fmt, ignore) == ["7KQ2ZD"]


@pytest.mark.parametrize("language", locales.LANGUAGES)
def test_a_keyword_glued_to_the_code_is_stripped_whole(language):
    fmt = codes.CodeFormat(6)
    ignore = locales.fixed_words(fmt, locales.SMS_TEMPLATES.values(), "Shop")
    keyword = locales.SMS_TEMPLATES[language].split()[0]
    assert codes.extract(f"{keyword}7KQ2ZD", fmt, ignore) == ["7KQ2ZD"]


def test_the_longest_glued_keyword_wins_when_keywords_share_a_beginning():
    ignore = frozenset({"VER1F1CA", "VER1F1CAR"})
    assert codes.words("VERIFICAR7KQ2ZD", codes.CROCKFORD, ignore) == ["7KQ2ZD"]
    assert codes.words("VERIFICA7KQ2ZD", codes.CROCKFORD, ignore) == ["7KQ2ZD"]


@pytest.mark.parametrize("language", locales.LANGUAGES)
def test_no_languages_fixed_words_leave_a_piece_behind(language):
    """A word that is itself ignored is dropped whole: ENTRAR is not read as EN + TRAR."""
    ignore = locales.fixed_words(codes.CodeFormat(6), locales.SMS_TEMPLATES.values(), "Shop")
    text = locales.SMS_TEMPLATES[language].replace("{code}", " ").replace("{name}", "Shop")
    assert codes.words(text, codes.CROCKFORD, ignore) == []
