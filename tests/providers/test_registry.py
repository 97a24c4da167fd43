"""Every registered provider has its test record, and every test record a registered provider.

The contract, forgery and webhook suites are parametrised over the registry; a provider whose
record is incomplete fails here by name instead of going untested.
"""

from __future__ import annotations

from app.providers import REGISTRY
from tests.providers import samples


def test_the_test_records_name_exactly_the_registered_providers():
    records = {
        "KEYS": set(samples.KEYS),
        "AUTH": set(samples.AUTH),
        "SECTIONS": set(samples.SECTIONS),
        "PROVIDERS": set(samples.PROVIDERS),
    }
    assert records == {name: set(REGISTRY) for name in records}
    assert samples.TIMESTAMPED.issubset(REGISTRY)


def test_every_registered_provider_has_a_signed_request_builder():
    missing = [
        name
        for name in REGISTRY
        if not callable(getattr(samples, "_" + name.replace("-", "_"), None))
    ]
    assert missing == []
