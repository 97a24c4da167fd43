"""The faster extraction reads every text exactly as the first, plain version did."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain import codes
from app.domain.codes import _INNER_SEPARATORS, _LOOKALIKES, MAX_TEXT_LENGTH, CodeFormat


def reference_normalise(text: str, alphabet: str) -> str:
    folded = unicodedata.normalize("NFKC", text[:MAX_TEXT_LENGTH]).upper()
    out = []
    for char in folded:
        if char.isdigit() and not char.isascii():
            char = str(unicodedata.digit(char, 0))
        mapped = _LOOKALIKES.get(char)
        if char not in alphabet and mapped is not None and mapped in alphabet:
            char = mapped
        out.append(char)
    return "".join(out)


def reference_tokens(folded: str) -> list[str]:
    words: list[str] = []
    current: list[str] = []
    for char in folded:
        if char.isalnum():
            current.append(char)
        elif char in _INNER_SEPARATORS and current:
            continue
        else:
            words.append("".join(current))
            current = []
    words.append("".join(current))
    return [w for w in words if w]


def reference_extract(text: str, fmt: CodeFormat, ignore: frozenset[str]) -> list[str]:
    words = []
    for word in reference_tokens(reference_normalise(text, fmt.alphabet)):
        for keyword in ignore:
            if len(word) > len(keyword) and word.startswith(keyword):
                word = word[len(keyword) :]
                break
        words.append(word)
    words = [w for w in words if w and w not in ignore]
    found: list[str] = []
    for span in range(1, fmt.length + 1):
        for start in range(len(words) - span + 1):
            joined = "".join(words[start : start + span])
            if len(joined) == fmt.length and all(c in fmt.alphabet for c in joined):
                if joined not in found:
                    found.append(joined)
                if len(found) == codes.MAX_CANDIDATES:
                    return found
    return found


SMS_CHARS = st.sampled_from(
    [
        *"0123456789ABCDEFGHJKMNPQRSTVWXYZabcdeiloILOU -._,:!?\n",
        *["\u2013", "\u00b7", "\uff11", "\u0663", "\u00e9", "\u00b2", "\u2160", "_", "\u00a0"],
    ]
)
TEXTS = st.lists(SMS_CHARS, max_size=80).map("".join)
IGNORE = frozenset({"VER1FY", "T0", "S1GN", "1N"})


@settings(max_examples=400, deadline=None)
@given(text=TEXTS, length=st.sampled_from([4, 6, 8, 13]), digits=st.booleans())
def test_extraction_reads_any_text_as_before(text, length, digits):
    fmt = CodeFormat(length, codes.DIGITS if digits else codes.CROCKFORD)
    assert codes.normalise(text, fmt.alphabet) == reference_normalise(text, fmt.alphabet)
    assert codes.extract(text, fmt, IGNORE) == reference_extract(text, fmt, IGNORE)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=60))
def test_tokens_split_any_unicode_as_before(text):
    folded = reference_normalise(text, codes.CROCKFORD)
    assert codes._tokens(folded, codes.CROCKFORD) == reference_tokens(folded)
