"""docs/security.md covers every threat, and every test it names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "security.md").read_text()


def defined_tests() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        names |= set(re.findall(r"^def (test_\w+)", path.read_text(), re.M))
    return names


def test_every_test_the_security_doc_names_exists():
    named = set(re.findall(r"::(test_\w+)", DOC))
    assert len(named) > 40
    assert named - defined_tests() == set()


def test_every_threat_of_the_model_has_its_section():
    for n in range(1, 22):
        assert re.search(rf"^\*\*T{n} ", DOC, re.M), f"T{n} missing"


def test_the_doc_says_what_a_verification_does_not_prove():
    assert "proves control of a sending number, not possession" in DOC
