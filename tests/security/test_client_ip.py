"""The per-IP creation limit counts the end user the integrator names, not its backend."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import AUTH, NUMBER

SIM_ONLY = [{"number": NUMBER, "provider": "simulator"}]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"numbers": SIM_ONLY, "limits": {"per_ip": "2/hour", "per_api_key": "100/hour"}}


def create(client, **body: Any):
    return client.post("/api/v1/challenges", json=body, headers=AUTH)


def test_an_integrator_backend_is_not_limited_per_ip_without_client_ip(client):
    statuses = [create(client).status_code for _ in range(5)]
    assert statuses == [201] * 5


def test_per_ip_limit_counts_the_client_ip_the_integrator_gives(client):
    assert create(client, client_ip="198.51.100.1").status_code == 201
    assert create(client, client_ip="198.51.100.1").status_code == 201
    refused = create(client, client_ip="198.51.100.1")
    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "rate_limited_ip"
    # Other end users of the same integrator are not locked out.
    assert create(client, client_ip="198.51.100.2").status_code == 201
    assert create(client).status_code == 201


def test_client_ip_accepts_ipv6_and_counts_one_subscriber_prefix(client):
    assert create(client, client_ip="2001:db8:1:2::1").status_code == 201
    assert create(client, client_ip="2001:DB8:1:2::ffff").status_code == 201
    assert create(client, client_ip="2001:db8:1:2:aaaa::1").status_code == 429
    assert create(client, client_ip="2001:db8:1:3::1").status_code == 201


def test_an_ipv4_mapped_client_ip_counts_as_its_ipv4_address(client):
    create(client, client_ip="192.0.2.5")
    create(client, client_ip="::ffff:192.0.2.5")
    assert create(client, client_ip="192.0.2.5").status_code == 429


@pytest.mark.parametrize("bad", ["not-an-ip", "300.1.2.3", "198.51.100.0/24", "", 12, ["1.2.3.4"]])
def test_a_malformed_client_ip_is_refused_naming_the_field(client, bad):
    response = create(client, client_ip=bad)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_request"
    assert "client_ip" in response.json["error"]["message"]
    if isinstance(bad, str):
        assert "IPv4 or IPv6 address" in response.json["error"]["message"]


def test_the_openapi_document_describes_client_ip(client):
    spec = client.get("/openapi.json").json
    field = spec["components"]["schemas"]["CreateChallenge"]["properties"]["client_ip"]
    assert "per-IP creation limit" in field["description"]
    assert {"type": "string", "maxLength": 64} in field["anyOf"]
