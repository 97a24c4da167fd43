"""Phone numbers: E.164 everywhere, clear refusals, masked display."""

from __future__ import annotations

import pytest

from app.domain import phone


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+33612345678", None, "+33612345678"),
        ("+33 6 12 34 56 78", None, "+33612345678"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("(415) 555-0100", "US", "+14155550100"),
    ],
)
def test_reads_numbers_into_e164(raw, region, expected):
    assert phone.parse(raw, region) == expected


@pytest.mark.parametrize("raw", ["", "hello", "+1", "06 12 34 56 78", "+3361234567899999"])
def test_refuses_numbers_it_cannot_read_as_valid(raw):
    with pytest.raises(phone.InvalidPhone) as refused:
        phone.parse(raw)
    assert refused.value.reason == "invalid_phone"


def test_reads_bare_international_digits_as_providers_send_them():
    assert phone.parse_sender("33612345678", international=True) == "+33612345678"


def test_refuses_premium_rate_numbers_by_default():
    premium = phone.parse("+33899123456")
    with pytest.raises(phone.InvalidPhone) as refused:
        phone.check_type(premium, phone.DEFAULT_ALLOWED_TYPES)
    assert refused.value.reason == "phone_type_refused"
    assert "premium-rate" in str(refused.value)


def test_refuses_shared_cost_numbers_by_default():
    shared = phone.parse("+33810123456")
    with pytest.raises(phone.InvalidPhone):
        phone.check_type(shared, phone.DEFAULT_ALLOWED_TYPES)


def test_accepts_premium_rate_when_the_operator_allows_it():
    phone.check_type(phone.parse("+33899123456"), ["premium_rate"])


def test_masks_all_but_the_first_and_last_two_digits():
    assert phone.mask("+33612345678") == "+33 6** *** *78"
    assert phone.mask("+14155550100") == "+1 4** *** **00"
    assert phone.mask(None) is None


def test_tells_the_region_of_a_number():
    assert phone.region("+33612345678") == "FR"
