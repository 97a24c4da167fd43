"""Callback destinations: private, loopback and link-local addresses are refused."""

import pytest

from app.outbound import ForbiddenDestination, check_destination


def resolving_to(*addresses):
    return lambda host, port: list(addresses)


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.0.0.8", "192.168.1.1", "169.254.169.254", "::1", "fe80::1", "100.64.0.1"],
)
def test_refuses_a_host_resolving_to_a_non_public_address(address):
    with pytest.raises(ForbiddenDestination):
        check_destination("https://hooks.example.com/", False, resolving_to(address))


def test_refuses_when_any_one_of_several_addresses_is_private():
    resolver = resolving_to("93.184.216.34", "10.0.0.1")
    with pytest.raises(ForbiddenDestination):
        check_destination("https://hooks.example.com/", False, resolver)


def test_refuses_an_ipv4_mapped_loopback():
    with pytest.raises(ForbiddenDestination):
        check_destination("https://x.example/", False, resolving_to("::ffff:127.0.0.1"))


def test_accepts_public_addresses():
    check_destination("https://hooks.example.com/", False, resolving_to("93.184.216.34"))


def test_allows_private_addresses_when_configured():
    check_destination("http://127.0.0.1:9000/", True, resolving_to("127.0.0.1"))


def test_resolves_the_url_host_and_default_port():
    seen = []
    check_destination(
        "https://hooks.example.com/x", False, lambda h, p: seen.append((h, p)) or ["8.8.8.8"]
    )
    assert seen == [("hooks.example.com", 443)]
