"""Links that prefill the user's SMS."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from app.domain import links


def test_sms_uri_uses_the_cross_platform_form_and_percent_encodes_spaces():
    assert (
        links.sms_uri("+15017122661", "VERIFY AB12CD") == "sms:+15017122661?&body=VERIFY%20AB12CD"
    )


def test_sms_uri_escapes_reserved_characters_and_utf8():
    uri = links.sms_uri("+1", "a&b=c+d?#% é")
    assert uri == "sms:+1?&body=a%26b%3Dc%2Bd%3F%23%25%20%C3%A9"
    assert "+" not in uri.split("body=")[1]


def test_qr_payload_is_smsto_with_the_raw_text():
    assert (
        links.smsto_payload("+15017122661", "VERIFY AB12CD") == "SMSTO:+15017122661:VERIFY AB12CD"
    )


def test_whatsapp_link_takes_the_number_as_digits_and_encodes_the_text():
    assert links.whatsapp_uri("+1 (501) 712-2661", "VERIFY 7K3M9Q") == (
        "https://wa.me/15017122661?text=VERIFY%207K3M9Q"
    )


@pytest.mark.parametrize("char", ["&", "?", "#", "+", ";", "=", "/", " "])
def test_whatsapp_link_leaves_no_character_that_would_end_or_change_the_text(char):
    uri = links.whatsapp_uri("+15017122661", f"A{char}B")
    assert uri == "https://wa.me/15017122661?text=A" + quote(char, safe="") + "B"
    assert char not in uri.split("text=", 1)[1]
