"""Routing by region, then calling code, then turns; the country policy; with real numbers."""

from __future__ import annotations

import pytest

from app.domain.countries import CountryPolicy, choose_number, country

GB_MOBILE = "+447400123456"
GG_MOBILE = "+447911123456"  # +44, yet Guernsey
JE_MOBILE = "+447797123456"
IM_MOBILE = "+447624123456"
US_NUMBER = "+12125551212"
CA_NUMBER = "+16132345678"  # +1, yet Canada
FR_MOBILE = "+33612345678"

UK_OURS = "+447700900001"  # fictional: phonenumbers knows no region, only +44 -> GB
US_OURS = "+15017122661"
FR_OURS = "+33757000000"
GG_OURS = "+447781000000"


@pytest.mark.parametrize(
    ("number", "region"),
    [(GB_MOBILE, "GB"), (GG_MOBILE, "GG"), (JE_MOBILE, "JE"), (IM_MOBILE, "IM"),
     (US_NUMBER, "US"), (CA_NUMBER, "CA"), (FR_MOBILE, "FR"), (UK_OURS, "GB")],
)  # fmt: skip
def test_a_numbers_country_is_its_region_else_its_calling_codes_main_region(number, region):
    assert country(number) == region


@pytest.mark.parametrize("phone", [GG_MOBILE, JE_MOBILE, IM_MOBILE, GB_MOBILE])
def test_crown_dependencies_get_a_uk_number_not_the_french_one(phone):
    numbers = [FR_OURS, US_OURS, UK_OURS]
    assert {choose_number(numbers, phone, turn) for turn in range(6)} == {UK_OURS}


def test_a_canadian_phone_gets_the_north_american_number_not_the_uk_one():
    numbers = [UK_OURS, US_OURS, FR_OURS]
    assert {choose_number(numbers, CA_NUMBER, turn) for turn in range(6)} == {US_OURS}


def test_the_phones_own_region_wins_over_its_calling_code():
    numbers = [UK_OURS, GG_OURS]
    assert choose_number(numbers, GG_MOBILE, 0) == GG_OURS
    assert choose_number(numbers, GB_MOBILE, 1) == UK_OURS  # fictional UK number: region GB


def test_numbers_of_the_calling_code_take_turns_then_all_take_turns():
    second_us = "+14155550100"
    numbers = [FR_OURS, US_OURS, second_us]
    assert [choose_number(numbers, CA_NUMBER, i) for i in range(2)] == [US_OURS, second_us]
    assert [choose_number(numbers, "+4915112345678", i) for i in range(3)] == numbers
    assert [choose_number(numbers, None, i) for i in range(3)] == numbers


def test_denied_countries_are_refused_by_name():
    policy = CountryPolicy(denied=frozenset({"GG"}))
    assert "GG" in (policy.refusal(GG_MOBILE) or "")
    assert policy.refusal(GB_MOBILE) is None and policy.refusal(JE_MOBILE) is None


def test_only_allowed_countries_pass_when_a_list_is_given():
    policy = CountryPolicy(allowed=frozenset({"FR", "GB"}))
    assert policy.refusal(FR_MOBILE) is None and policy.refusal(GB_MOBILE) is None
    for other, name in ((GG_MOBILE, "GG"), (CA_NUMBER, "CA"), (US_NUMBER, "US")):
        assert name in (policy.refusal(other) or "")


def test_denied_wins_over_allowed():
    policy = CountryPolicy(allowed=frozenset({"FR"}), denied=frozenset({"FR"}))
    assert policy.refusal(FR_MOBILE) is not None


@pytest.mark.parametrize(
    ("sender", "refused"),
    [("+449012345678", True), ("+33891234567", True), ("+33820123456", True),
     (FR_MOBILE, False), (GB_MOBILE, False), (US_NUMBER, False)],
)  # fmt: skip
def test_premium_rate_and_shared_cost_senders_may_not_discover_by_default(sender, refused):
    assert CountryPolicy().discovery_type_refused(sender) is refused


def test_discovery_sender_types_are_configurable():
    assert not CountryPolicy(discovery_types=("premium_rate",)).discovery_type_refused(
        "+449012345678"
    )
