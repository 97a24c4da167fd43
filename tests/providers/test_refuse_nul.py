"""A NUL anywhere in what a provider sent (PostgreSQL cannot store it) is malformed."""

from __future__ import annotations

import pytest

from app.providers.base import Malformed, refuse_nul


class Odd:
    def __str__(self) -> str:
        return "odd\x00value"


@pytest.mark.parametrize(
    "raw",
    [
        {"text": "a\x00b"},
        {"a\x00": "key"},
        {"outer": {"inner": ["ok", "no\x00"]}},
        {"tuple": ("x", ("y\x00",))},
        {"object": Odd()},
    ],
)
def test_a_nul_anywhere_is_refused(raw):
    with pytest.raises(Malformed):
        refuse_nul(raw)


@pytest.mark.parametrize(
    "raw", [{}, {"text": "hello", "n": 1, "f": 1.5, "b": True, "none": None, "l": [{"k": "v"}]}]
)
def test_values_without_nul_pass(raw):
    refuse_nul(raw)
