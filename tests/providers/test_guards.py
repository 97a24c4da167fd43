"""The generic checks in front of every adapter: path token, HTTP Basic, IP allow-list."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from app.providers import REGISTRY
from app.providers.base import Defaults, Rejected, SettingsError
from app.providers.guards import Guarded
from tests.conftest import PUBLIC_URL
from tests.providers import samples
from tests.providers.helpers import new_challenge

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def guarded(name, **extra):
    section = samples.SAMPLES[name].section | extra
    return Guarded(REGISTRY[name](section, Defaults(PUBLIC_URL)), section)


def sample(name):
    return samples.build(name, "hi", samples.SENDER, samples.SAMPLES[name].number, "g-1", NOW)


def test_allow_list_accepts_an_address_inside_a_range():
    adapter = guarded("telnyx", allow_ips=["203.0.113.0/24", "2001:db8::/32"])
    adapter.verify(sample("telnyx").request(remote_addr="203.0.113.9"), NOW)
    adapter.verify(sample("telnyx").request(remote_addr="2001:db8::1"), NOW)


def test_allow_list_rejects_an_address_outside_every_range():
    adapter = guarded("telnyx", allow_ips=["198.51.100.0/24"])
    with pytest.raises(Rejected, match="address_not_allowed"):
        adapter.verify(sample("telnyx").request(remote_addr="203.0.113.9"), NOW)


def test_forwarded_address_counts_only_behind_a_trusted_proxy():
    adapter = guarded("telnyx", allow_ips=["198.51.100.0/24"], trusted_proxies=["10.0.0.0/8"])
    s = sample("telnyx")
    via_proxy = replace(s, headers=s.headers | {"X-Forwarded-For": "1.2.3.4, 198.51.100.7"})
    adapter.verify(via_proxy.request(remote_addr="10.1.2.3"), NOW)
    with pytest.raises(Rejected):  # the same header from an untrusted peer is ignored
        adapter.verify(via_proxy.request(remote_addr="203.0.113.9"), NOW)
    spoofed = replace(s, headers=s.headers | {"X-Forwarded-For": "198.51.100.7, 1.2.3.4"})
    with pytest.raises(Rejected):  # only the entry the trusted proxy added is believed
        adapter.verify(spoofed.request(remote_addr="10.1.2.3"), NOW)


@pytest.mark.parametrize("header", ["", "Bearer x", "Basic !!!", "Basic " + "aW5mb2JpcC11c2VyOg=="])
def test_basic_guard_rejects_missing_or_wrong_credentials(header):
    s = sample("infobip")
    forged = replace(s, headers=s.headers | {"Authorization": header})
    with pytest.raises(Rejected):
        guarded("infobip").verify(forged.request(), NOW)


def test_path_token_is_required_when_set_and_refused_when_not():
    s = sample("africastalking")
    bare = replace(s, path="/webhooks/africastalking")
    with pytest.raises(Rejected, match="bad_path_token"):
        guarded("africastalking").verify(bare.request(), NOW)
    with pytest.raises(Rejected, match="unexpected_path_token"):
        guarded("telnyx").verify(
            replace(sample("telnyx"), path="/webhooks/telnyx/x").request(), NOW
        )


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ({"path_token": "short"}, "path_token"),
        ({"basic_username": "only-user"}, "basic_password"),
        ({"allow_ips": ["not-an-ip"]}, "allow_ips"),
        ({"allow_ips": "10.0.0.0/8"}, "allow_ips"),
    ],
)
def test_bad_guard_settings_name_the_key(extra, key):
    with pytest.raises(SettingsError, match=key):
        guarded("africastalking", **extra)


def test_a_challenge_gets_a_number_in_the_expected_phones_country(make_app):
    numbers = [
        {"number": "+14155550106", "provider": "telnyx"},
        {"number": "+33612345670", "provider": "telnyx"},
        {"number": "+447911123457", "provider": "sinch"},
    ]
    client = make_app("telnyx", "sinch", numbers=numbers).test_client()
    for _ in range(3):
        assert new_challenge(client, phone="+33612345678")["to"] == "+33612345670"
        assert new_challenge(client, phone="+447911123456")["to"] == "+447911123457"


def test_challenges_without_a_local_number_are_spread_evenly(make_app):
    client = make_app("telnyx", "sinch", "plivo", limits={"per_phone": "100/hour"}).test_client()
    spread = Counter(new_challenge(client, phone="+33612345678")["to"] for _ in range(9))
    spread.update(new_challenge(client)["to"] for _ in range(9))
    assert sorted(spread.values()) == [6, 6, 6]
