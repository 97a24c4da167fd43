"""Email addresses in the domain: masking, and the guards' counters for an emailed code."""

from __future__ import annotations

import pytest

from app.domain import emails, proofs, pumping
from app.domain.pumping import GuardRules, Refused
from app.domain.rates import Rate


@pytest.mark.parametrize(
    ("address", "shown"),
    [
        ("jane.doe@example.org", "j******e@e*****e.org"),
        ("jo@example.org", "**@e*****e.org"),
        ("a@b.co", "*@*.co"),
        ("x@localhost", "*@l*******t"),
        ("nodomain", "***"),
        (None, None),
    ],
)
def test_masks_an_address(address, shown):
    assert emails.mask(address) == shown


def test_an_email_is_charged_per_address_per_domain_and_to_the_budget():
    rules = GuardRules(per_phone=(Rate(2, 3600),), per_domain=(Rate(5, 86400),), daily_budget=9)
    dest = pumping.email_destination("Jane@Example.org")
    assert (dest.e164, dest.prefix, dest.country) == ("jane@example.org", "@example.org", "")
    caps = pumping.caps(dest, rules)
    assert [c.name for c in caps] == ["address_hour", "domain_day", "daily_budget"]
    keys = [c.key for c in caps[:2]]
    assert keys == ["address:3600:jane@example.org", "domain:86400:@example.org"]
    assert pumping.breaker_groups(dest) == []


def test_phone_caps_are_unchanged_and_every_refusal_word_is_known():
    dest = pumping.destination("+33612345678", 3)
    names = [c.name for c in pumping.caps(dest, GuardRules())]
    assert names[:2] == ["phone_hour", "phone_day"] and "domain_hour" not in names
    codes = pumping.refusal_codes(GuardRules())
    assert {"cap_address_hour", "cap_domain_day", "invalid_email", "cap_phone_hour"} <= codes


def test_an_address_without_domain_is_refused():
    with pytest.raises(Refused) as refused:
        pumping.email_destination("jane")
    assert refused.value.reason == "invalid_email"


def test_the_email_method_maps_to_amr_email():
    assert proofs.amr("email") == ["email"]
