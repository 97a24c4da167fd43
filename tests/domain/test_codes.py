"""Codes: generation, and extraction that forgives what phones and people do to text."""

from __future__ import annotations

import random
import secrets

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain import codes
from app.domain.codes import CROCKFORD, DIGITS, CodeFormat

FMT = CodeFormat()
IGNORE = codes.template_words(FMT.template, FMT.alphabet)


def extract(text: str, fmt: CodeFormat = FMT) -> list[str]:
    return codes.extract(text, fmt, codes.template_words(fmt.template, fmt.alphabet))


def test_default_alphabet_has_no_lookalike_letters():
    assert not set("ILOU") & set(CROCKFORD)
    assert len(CROCKFORD) == 32


def test_generates_codes_of_the_configured_length_from_the_alphabet():
    fmt = CodeFormat(length=9, alphabet=DIGITS)
    code = codes.generate(fmt, secrets.randbelow)
    assert len(code) == 9
    assert set(code) <= set(DIGITS)


def test_generation_draws_every_character_from_the_rng():
    draws = iter([0, 31, 10, 1, 2, 3])
    assert codes.generate(FMT, lambda n: next(draws)) == "0ZA123"


def test_refuses_alphabets_with_lowercase_or_duplicates():
    with pytest.raises(codes.InvalidAlphabet):
        CodeFormat(alphabet="abcdefghijk")
    with pytest.raises(codes.InvalidAlphabet):
        CodeFormat(alphabet="00123456789")


def test_template_must_hold_the_code():
    with pytest.raises(codes.InvalidAlphabet):
        CodeFormat(template="VERIFY")


def test_renders_the_default_template():
    assert codes.render(FMT, "AB12CD") == "VERIFY AB12CD"


@pytest.mark.parametrize(
    "text",
    [
        "VERIFY 7KQ2MX",
        "verify 7kq2mx",
        "7KQ2MX",
        "VERIFY7KQ2MX",
        "verify7kq2mx",
        "VERIFY 7KQ-2MX",
        "VERIFY 7KQ 2MX",
        "VERIFY 7.K.Q.2.M.X",
        "Hello! Here is my code: VERIFY 7KQ2MX thanks",
        "\uff36\uff25\uff32\uff29\uff26\uff39 \uff17\uff2b\uff31\uff12\uff2d\uff38",  # full-width
        "VERIFY 7KQ\u20102MX",  # Unicode hyphen
        "  VERIFY   7KQ2MX \n",
    ],
)
def test_extracts_the_code_from_mangled_text(text):
    assert "7KQ2MX" in extract(text)


def test_reads_lookalike_letters_as_digits_when_the_alphabet_lacks_them():
    assert extract("VERIFY AB0I1L") == ["AB0111"]
    assert extract("verify abo123") == ["AB0123"]


def test_reads_other_unicode_digits():
    arabic_indic = "\u0661\u0662\u0663\u0664\u0665\u0666"
    assert extract(f"VERIFY {arabic_indic}", CodeFormat(alphabet=DIGITS)) == ["123456"]


def test_finds_nothing_in_text_without_a_code():
    assert extract("VERIFY") == []
    assert extract("hello") == []
    assert extract("") == []


def test_never_offers_more_than_the_candidate_cap():
    text = " ".join(f"AB{i:04d}" for i in range(50))
    assert len(extract(text)) == codes.MAX_CANDIDATES


def test_a_code_starting_with_the_keyword_is_not_usable():
    assert not codes.usable("VER1FY", IGNORE)
    assert codes.usable("7KQ2MX", IGNORE)


# Documented manglings of a sent text: each maps the exact text to what may arrive.
def _lower(t: str, c: str) -> str:
    return t.lower()


def _glue(t: str, c: str) -> str:
    return t.replace(" ", "", 1)


def _no_keyword(t: str, c: str) -> str:
    return c


def _dashes(t: str, c: str) -> str:
    return t.replace(c, c[:3] + "-" + c[3:])


def _dots(t: str, c: str) -> str:
    return t.replace(c, ".".join(c))


def _spaces(t: str, c: str) -> str:
    return t.replace(c, " ".join(c))


def _fullwidth(t: str, c: str) -> str:
    return "".join(chr(ord(x) + 0xFEE0) if "!" <= x <= "~" else x for x in t)


def _lookalikes(t: str, c: str) -> str:
    return t.replace(c, c.replace("0", "O").replace("1", "I"))


def _surrounded(t: str, c: str) -> str:
    return f"Hi, {t} - sent from my phone"


MANGLINGS = [
    _lower,
    _glue,
    _no_keyword,
    _dashes,
    _dots,
    _spaces,
    _fullwidth,
    _lookalikes,
    _surrounded,
]


@settings(max_examples=300)
@given(
    seed=st.integers(min_value=0, max_value=2**32),
    length=st.integers(min_value=4, max_value=14),
    alphabet=st.sampled_from([CROCKFORD, DIGITS]),
    chain=st.lists(st.sampled_from(MANGLINGS), min_size=1, max_size=3, unique=True),
)
def test_every_generated_code_survives_every_documented_mangling(seed, length, alphabet, chain):
    fmt = CodeFormat(length=length, alphabet=alphabet)
    ignore = codes.template_words(fmt.template, fmt.alphabet)
    rng = random.Random(seed)
    code = codes.generate(fmt, rng.randrange)
    if not codes.usable(code, ignore):
        return
    text = codes.render(fmt, code)
    for mangle in chain:
        text = mangle(text, code)
    found = codes.extract(text, fmt, ignore)
    assert code in found


@settings(max_examples=300)
@given(
    seed=st.integers(min_value=0, max_value=2**32),
    length=st.integers(min_value=4, max_value=14),
    alphabet=st.sampled_from([CROCKFORD, DIGITS]),
    mangle=st.sampled_from([m for m in MANGLINGS if m is not _surrounded]),
)
def test_extraction_never_returns_a_code_that_was_not_sent(seed, length, alphabet, mangle):
    fmt = CodeFormat(length=length, alphabet=alphabet)
    ignore = codes.template_words(fmt.template, fmt.alphabet)
    code = codes.generate(fmt, random.Random(seed).randrange)
    if not codes.usable(code, ignore):
        return
    assert codes.extract(mangle(codes.render(fmt, code), code), fmt, ignore) == [code]


@given(st.text(max_size=400))
def test_extraction_of_arbitrary_text_returns_well_formed_candidates(text):
    for candidate in extract(text):
        assert len(candidate) == FMT.length
        assert set(candidate) <= set(FMT.alphabet)


@pytest.mark.parametrize("length", range(7, 33))
def test_long_codes_are_grouped_with_no_run_of_groups_of_another_formats_length(length):
    code = "7" * length
    groups = codes.group(code, frozenset({6}))
    assert "".join(groups) == code
    assert all(len(g) >= 3 for g in groups)
    sizes = [len(g) for g in groups]
    runs = {sum(sizes[i:j]) for i in range(len(sizes)) for j in range(i + 1, len(sizes) + 1)}
    assert 6 not in runs - {length}


def test_short_codes_stay_whole():
    assert codes.group("7KQ2ZD") == ["7KQ2ZD"]


@pytest.mark.parametrize("written", ["7KQ2 ZDHA 3MNPX", "7KQ2ZDHA3MNPX", "7kq2-zdha-3mnpx"])
def test_a_grouped_code_is_read_with_or_without_its_spaces(written):
    fmt = codes.CodeFormat(13)
    ignore = codes.template_words("VERIFY {code} to sign in", fmt.alphabet)
    assert codes.extract(f"VERIFY {written} to sign in", fmt, ignore) == ["7KQ2ZDHA3MNPX"]
