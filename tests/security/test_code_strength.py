"""Code strength by mode: long discovery codes, sized by a bound the server computes."""

from __future__ import annotations

import math
from typing import Any

import pytest

from app.config import load
from app.config.checks import ConfigError
from app.config.schema import Settings
from app.domain import codes
from app.usecases import challenges, context, inbound
from tests.conftest import NUMBER, base_settings
from tests.security.helpers import create, outcome, send_sms

SIM_ONLY = [{"number": NUMBER, "provider": "simulator"}]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"numbers": SIM_ONLY, "server": {"name": "Example Shop"}}


def test_default_discovery_codes_keep_a_million_guessed_sms_below_one_in_a_million():
    settings = Settings()
    fmt = settings.discovery_format
    assert fmt.length == 13 and settings.limits.max_pending == 10_000
    assert fmt.bits == pytest.approx(65.0)
    bound = settings.guess_bound
    # 1e6 messages x 8 candidates x 1e4 pending / 32**13 (minus codes the template forbids)
    plain = 1_000_000 * codes.MAX_CANDIDATES * 10_000 / 32**13
    assert plain == pytest.approx(2.17e-9, rel=0.01)
    assert plain <= bound <= plain * 1.01
    assert bound < codes.GUESS_TARGET


def test_bound_grows_with_pending_challenges_and_shrinks_with_length():
    fmt = codes.CodeFormat(12)
    assert codes.guess_bound(fmt, 2000) == pytest.approx(2 * codes.guess_bound(fmt, 1000))
    assert codes.guess_bound(codes.CodeFormat(13), 1000) == pytest.approx(
        codes.guess_bound(fmt, 1000) / 32
    )


def test_bound_counts_codes_the_template_words_rule_out():
    fmt = codes.CodeFormat(6)
    words = frozenset({"T0", "1N"})
    assert codes.usable_space(fmt, words) == pytest.approx(32**6 * (1 - 2 / 32**2))


def test_six_digit_discovery_codes_are_refused_at_start_up(tmp_path):
    raw = base_settings(tmp_path, codes={"discovery_length": 6, "alphabet": "0123456789"})
    with pytest.raises(ConfigError, match=r"codes.discovery_length.*probability up to 1"):
        load(overrides=raw, environ={})


def test_the_refusal_follows_the_pending_cap(tmp_path):
    raw = base_settings(tmp_path, codes={"discovery_length": 11})
    with pytest.raises(ConfigError, match="max_pending=10000"):
        load(overrides=raw, environ={})
    raw["limits"] = {"max_pending": 100}
    assert load(overrides=raw, environ={}).guess_bound < 1e-6


def test_weak_discovery_codes_start_only_when_forced(tmp_path):
    raw = base_settings(tmp_path, codes={"discovery_length": 8, "allow_weak_discovery": True})
    assert load(overrides=raw, environ={}).guess_bound > 1e-6


def test_development_mode_is_held_to_the_same_bound(tmp_path):
    raw = {"server": {"mode": "development", "instance_dir": str(tmp_path)}}
    raw["codes"] = {"discovery_length": 10}
    with pytest.raises(ConfigError, match="discovery_length"):
        load(overrides=raw, environ={})


def test_discovery_challenges_get_long_codes_and_expected_phone_ones_short(ctx):
    discovery = challenges.create_challenge(ctx, None, None, {})
    expected = challenges.create_challenge(ctx, "+14155550123", None, {})
    assert len(discovery.code) == 13
    assert len(expected.code) == 6


def test_default_sms_names_the_site_and_purpose_with_the_keyword_first(client):
    made = create(client)
    assert made["body"] == f"VERIFY {made['code']} to sign in to Example Shop"


@pytest.mark.parametrize("phone", [None, "+14155550123"])
def test_the_default_sms_verifies_in_both_modes(client, phone):
    made = create(client, **({"phone": phone} if phone else {}))
    assert outcome(send_sms(client, "+14155550123", made["body"])) == "matched"


def test_the_templates_words_and_the_site_name_never_read_as_codes(ctx):
    policy = ctx.policy
    for word in ("VER1FY", "T0", "S1GN", "1N", "EXAMP1E", "SH0P"):
        assert word in policy.ignore_words
    assert inbound.candidates_in(policy, "VERIFY to sign in to Example Shop") == []


def test_site_names_that_look_like_codes_are_ignored():
    policy = context.Policy(
        code_format=codes.CodeFormat(6, template=codes.DEFAULT_TEMPLATE),
        numbers={NUMBER: "simulator"},
        operator_name="ACME42",
    )
    text = codes.render(policy.code_format, "7KQ2ZD", name="ACME42")
    assert inbound.candidates_in(policy, text) == ["7KQ2ZD"]


def test_a_message_offers_at_most_max_candidates_of_the_discovery_length(ctx):
    words = " ".join(f"{n:013d}" for n in range(20))
    found = inbound.candidates_in(ctx.policy, words)
    assert len([c for c in found if len(c) == 13]) == codes.MAX_CANDIDATES


def test_stated_bits_match_the_alphabet():
    assert codes.CodeFormat(13).bits == pytest.approx(13 * math.log2(32))
