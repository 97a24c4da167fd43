"""Generate, format and extract verification codes.

A code is a short string over an alphabet. The default alphabet is Crockford's base32
(digits and upper-case letters without I, L, O and U), which survives dictation,
autocorrect and hand-typing. Extraction reads the text of an inbound SMS the way a
forgiving human would: any case, separators inside the code, text around it, the keyword
missing or glued to the code, full-width or other Unicode digits, and the look-alike letters
O, I and L read as 0, 1 and 1 when the alphabet has no such letters.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
DIGITS = "0123456789"

# Characters a human or a phone may put inside a code ("ABC-123", "ABC 123", "ABC.123").
_INNER_SEPARATORS = "-._\u2010\u2011\u2012\u2013\u2014\u2212\u00b7"
# Read as the character on the right when the alphabet lacks the one on the left.
_LOOKALIKES = {"O": "0", "I": "1", "L": "1"}
# Longest text we look into; an SMS concatenates to at most a few hundred characters.
MAX_TEXT_LENGTH = 1600
# Most candidates one message may offer; each counts as a guess against the code space.
MAX_CANDIDATES = 8
# What a code's characters become in a stored text.
MASK = "*"

# The default SMS names the site and the purpose, so a person lured into texting a code sees
# what they authorise; the keyword stays first so extraction finds the code after it.
DEFAULT_TEMPLATE = "VERIFY {code} to sign in to {name}"
# The attack the discovery code length is sized for: this many guessed SMS, each offering
# MAX_CANDIDATES codes, must succeed with probability below GUESS_TARGET.
GUESS_MESSAGES = 1_000_000
GUESS_TARGET = 1e-6

# A word: letters and digits ([^\W_] is str.isalnum), separators allowed between them.
_WORD = re.compile(rf"[^\W_]+(?:[{re.escape(_INNER_SEPARATORS)}]+[^\W_]+)*")
_DROP_SEPARATORS = str.maketrans("", "", _INNER_SEPARATORS)

_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")

Span = tuple[int, int]


class InvalidAlphabet(ValueError):
    """The configured alphabet cannot make codes."""


@dataclass(frozen=True)
class CodeFormat:
    """How codes look: alphabet, length and the SMS text that carries them."""

    length: int = 6
    alphabet: str = CROCKFORD
    template: str = "VERIFY {code}"

    def __post_init__(self) -> None:
        check_alphabet(self.alphabet)
        if not 4 <= self.length <= 32:
            raise InvalidAlphabet("code length must be between 4 and 32")
        if "{code}" not in self.template:
            raise InvalidAlphabet("the SMS template must contain {code}")

    @property
    def bits(self) -> float:
        """Entropy of one code, in bits."""
        return self.length * math.log2(len(self.alphabet))

    @property
    def space(self) -> int:
        """How many distinct codes exist."""
        return int(len(self.alphabet) ** self.length)


def check_alphabet(alphabet: str) -> None:
    """Raise InvalidAlphabet unless the alphabet is upper-case ASCII letters and digits."""
    if len(alphabet) < 10 or len(set(alphabet)) != len(alphabet):
        raise InvalidAlphabet("alphabet needs at least 10 distinct characters")
    if not all(c.isascii() and (c.isdigit() or c.isupper()) for c in alphabet):
        raise InvalidAlphabet("alphabet may hold only digits and upper-case ASCII letters")


def generate(fmt: CodeFormat, randbelow: Callable[[int], int]) -> str:
    """Draw a code; pass `secrets.randbelow` as `randbelow` outside tests."""
    return "".join(fmt.alphabet[randbelow(len(fmt.alphabet))] for _ in range(fmt.length))


def render(fmt: CodeFormat, code: str, **values: str) -> str:
    """Return the SMS text for a code, filling the template's placeholders."""
    text = fmt.template.replace("{code}", code)
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def normalise(text: str, alphabet: str) -> str:
    """Fold a text to the alphabet's form: NFKC, upper case, look-alikes mapped."""
    folded = unicodedata.normalize("NFKC", text[:MAX_TEXT_LENGTH]).upper()
    if not folded.isascii():
        folded = "".join(
            str(unicodedata.digit(c, 0)) if c.isdigit() and not c.isascii() else c for c in folded
        )
    return folded.translate(_lookalike_table(alphabet))


@functools.lru_cache(maxsize=16)
def _lookalike_table(alphabet: str) -> dict[int, str]:
    return str.maketrans(
        {k: v for k, v in _LOOKALIKES.items() if k not in alphabet and v in alphabet}
    )


def template_words(template: str, alphabet: str) -> frozenset[str]:
    """Return the template's fixed words, folded, so extraction can ignore them."""
    fixed = _PLACEHOLDER.sub(" ", template)
    return frozenset(w for w in _tokens(normalise(fixed, alphabet), alphabet) if w)


def extract(text: str, fmt: CodeFormat, ignore: frozenset[str] = frozenset()) -> list[str]:
    """Return the candidate codes in an SMS text, most likely first, at most MAX_CANDIDATES.

    `ignore` holds folded words that are never part of a code (the template's keyword).
    A candidate is one word, or several consecutive words, whose characters are all in the
    alphabet and add up to the code length; the keyword is also stripped when glued in front.
    """
    return candidates(words(text, fmt.alphabet, ignore), fmt)


def words(text: str, alphabet: str, ignore: frozenset[str] = frozenset()) -> list[str]:
    """Return a text's folded words, without the ignored ones (the first step of extract)."""
    prefixes = tuple(ignore)
    found = [
        _strip_keyword(w, ignore) if w.startswith(prefixes) else w
        for w in _tokens(normalise(text, alphabet), alphabet)
    ]
    return [w for w in found if w and w not in ignore]


def candidates(words: list[str], fmt: CodeFormat) -> list[str]:
    """Return the codes of the format's length that words offer (the second step of extract).

    Runs of consecutive words whose lengths add up to the code length are tried shortest
    run first, then from the left; the first MAX_CANDIDATES in the alphabet are kept.
    """
    found: list[str] = []
    for span, start in sorted(_runs([len(w) for w in words], fmt.length)):
        joined = "".join(words[start : start + span])
        if _in_alphabet(joined, fmt.alphabet) and joined not in found:
            found.append(joined)
            if len(found) == MAX_CANDIDATES:
                break
    return found


def _runs(sizes: list[int], length: int) -> list[tuple[int, int]]:
    """Return (span, start) of every run of consecutive words whose sizes add up to length."""
    runs: list[tuple[int, int]] = []
    for start in range(len(sizes)):
        total = 0
        for end in range(start, len(sizes)):
            total += sizes[end]
            if total >= length:
                if total == length:
                    runs.append((end - start + 1, start))
                break
    return runs


def mask(text: str, formats: list[CodeFormat], ignore: frozenset[str] = frozenset()) -> str:
    """Return the text with every word that is part of a candidate code hidden.

    Candidates are read as `extract` reads them, of every format, with no cap on their number
    and on the whole text; each of their words, as written, becomes MASK characters of the
    same length. Should a candidate survive (a character that folds into a word, like a
    ligature), every character but white space is hidden instead: a stored text never keeps
    a code in clear.
    """
    if not formats:
        return text
    words, spans = _spans(text, formats[0].alphabet, ignore)
    hidden: set[int] = set()
    for fmt in formats:
        for span, start in _runs([len(w) for w in words], fmt.length):
            if _in_alphabet("".join(words[start : start + span]), fmt.alphabet):
                hidden.update(range(start, start + span))
    chars = list(text)
    for index in hidden:
        begin, end = spans[index]
        chars[begin:end] = MASK * (end - begin)
    masked = "".join(chars)
    if _offers_code(masked, formats, ignore):
        return "".join(c if c.isspace() else MASK for c in text)
    return masked


def _spans(text: str, alphabet: str, ignore: frozenset[str]) -> tuple[list[str], list[Span]]:
    """Return a text's folded words (as `words` does) and where each was written."""
    found: list[str] = []
    spans: list[Span] = []
    prefixes = tuple(ignore)
    for written in _WORD.finditer(text):
        for token in _tokens(normalise(written.group(), alphabet), alphabet):
            word = _strip_keyword(token, ignore) if token.startswith(prefixes) else token
            if word and word not in ignore:
                found.append(word)
                spans.append(written.span())
    return found, spans


def _offers_code(text: str, formats: list[CodeFormat], ignore: frozenset[str]) -> bool:
    found = words(text, formats[0].alphabet, ignore)
    return any(
        _in_alphabet("".join(found[start : start + span]), fmt.alphabet)
        for fmt in formats
        for span, start in _runs([len(w) for w in found], fmt.length)
    )


def mask_values(value: Any, hide: Callable[[str], str]) -> Any:
    """Return a JSON-like value with `hide` applied to every string in it (keys are kept)."""
    if isinstance(value, str):
        return hide(value)
    if isinstance(value, dict):
        return {key: mask_values(item, hide) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask_values(item, hide) for item in value]
    return value


def _tokens(folded: str, alphabet: str) -> list[str]:
    """Split folded text into words, dropping separators found inside words."""
    return [w.translate(_DROP_SEPARATORS) for w in _WORD.findall(folded)]


def _strip_keyword(word: str, ignore: frozenset[str]) -> str:
    """Strip the longest ignored word glued in front (several languages' words may share a
    beginning, like VERIFICA and VERIFICAR, or EN and ENTRAR; the longest is the one written)."""
    if not ignore or word in ignore or not word.startswith(tuple(ignore)):
        return word  # a keyword on its own is dropped whole, never cut into another one
    glued = [k for k in ignore if len(word) > len(k) and word.startswith(k)]
    return word[len(max(glued, key=len)) :] if glued else word


def _in_alphabet(word: str, alphabet: str) -> bool:
    return not word.translate(_alphabet_eraser(alphabet))


@functools.lru_cache(maxsize=16)
def _alphabet_eraser(alphabet: str) -> dict[int, None]:
    return dict.fromkeys(map(ord, alphabet))


def group(code: str, avoid: frozenset[int] = frozenset(), size: int = 4) -> list[str]:
    """Split a long code into groups for reading (`ABCD EFGH JKMNP`); short codes stay whole.

    Extraction reads the groups back as one code (consecutive words adding up to its length).
    No run of consecutive groups but the whole may add up to a length in `avoid` (the other
    formats' lengths): a grouped code must offer no second, shorter candidate, which would
    make an honest message spend its sender's budget.
    """
    if len(code) <= size + 2:
        return [code]
    for width in (size, size + 1, size - 1, size + 2, size - 2):
        cut = [code[i : i + width] for i in range(0, len(code), width)]
        if len(cut[-1]) < 3 and len(cut) > 1:  # no short tail: merge it into the last group
            cut[-2:] = [cut[-2] + cut[-1]]
        if len(cut) > 1 and not _runs_hit(cut, avoid):
            return cut
    return [code]


def _runs_hit(parts: list[str], avoid: frozenset[int]) -> bool:
    sizes = [len(p) for p in parts]
    return any(
        sum(sizes[start:end]) in avoid
        for start in range(len(sizes))
        for end in range(start + 1, len(sizes) + 1)
        if end - start < len(sizes)
    )


def usable(code: str, ignore: frozenset[str]) -> bool:
    """Tell whether extraction can find this code next to the template's words."""
    return not any(code.startswith(word) for word in ignore)


def usable_space(fmt: CodeFormat, ignore: frozenset[str] = frozenset()) -> float:
    """Return how many codes generation can produce: all but those starting with a word."""
    size = len(fmt.alphabet)
    lost = sum(
        float(size) ** -len(w)
        for w in ignore
        if len(w) <= fmt.length and _in_alphabet(w, fmt.alphabet)
    )
    return fmt.space * max(0.0, 1.0 - lost)


def guess_bound(
    fmt: CodeFormat,
    pending: int,
    ignore: frozenset[str] = frozenset(),
    messages: int = GUESS_MESSAGES,
    candidates: int = MAX_CANDIDATES,
) -> float:
    """Return an upper bound on the chance that guessed SMS hit any pending code.

    Each message offers at most `candidates` codes; each candidate hits one of `pending`
    uniformly drawn codes with probability pending / space. By the union bound the chance
    of any hit is at most messages * candidates * pending / space (RFC 4226 section 6,
    with the look-ahead window replaced by the number of pending codes).
    """
    bound: float = messages * candidates * pending / usable_space(fmt, ignore)
    return min(1.0, bound)
