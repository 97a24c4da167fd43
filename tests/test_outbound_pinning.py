"""Callbacks connect to the address their destination check approved (no DNS rebinding).

Real sockets on loopback: 127.0.0.2 stands for the address the check approved, 127.0.0.1
for the one a second DNS answer would point to. Nothing may ever reach the second.
"""

import socket

import pytest

from app import outbound
from app.workers.delivery import deliverer_for as build_deliverer
from tests.callback_helpers import HOOK, HOOK_SECRET, PHONE, SIMULATOR_ONLY, create, outbox, text_in
from tests.conftest import runtime
from tests.receivers import Receiver, tls_files

CHECKED, REBOUND = "127.0.0.2", "127.0.0.1"
NAME = "hooks.rebind.test"


@pytest.fixture
def settings_overrides():
    callbacks = {"url": HOOK, "secret": HOOK_SECRET, "allow_private": True}
    return {"callbacks": callbacks, "numbers": SIMULATOR_ONLY}


@pytest.fixture
def rebinding_dns(monkeypatch):
    """DNS for NAME: CHECKED at the first lookup, REBOUND at every later one."""
    real = socket.getaddrinfo
    lookups = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host != NAME:
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        return real(CHECKED if len(lookups) == 1 else REBOUND, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups


@pytest.fixture
def pair():
    """A receiver on the checked address and one on the rebound address, same port."""
    for _ in range(20):
        with Receiver(CHECKED) as checked:
            try:
                with Receiver(REBOUND, port=checked.port) as rebound:
                    yield checked, rebound
                    return
            except OSError:
                continue  # the port is taken on 127.0.0.1: try another
    pytest.fail("no port free on both loopback addresses")


def test_a_callback_never_reaches_the_address_a_second_dns_answer_gives(
    app, client, rebinding_dns, pair
):
    checked, rebound = pair
    made = create(client, phone=PHONE, callback_url=f"http://{NAME}:{checked.port}/hook")
    text_in(client, PHONE, made["body"])
    deliverer = build_deliverer(runtime(app).settings, runtime(app).ctx)
    deliverer.run_once()
    [row] = outbox(app)
    assert (row["state"], len(checked.received), rebound.connections) == ("delivered", 1, 0)
    assert b"host: " + f"{NAME}:{checked.port}".encode() in checked.received[0].head.lower()


def test_the_destination_check_returns_the_addresses_it_approved():
    approved = outbound.check_destination(
        "https://hooks.example.com/", False, lambda host, port: ["93.184.216.34"]
    )
    assert approved == ["93.184.216.34"]


def test_a_pinned_post_falls_through_to_the_next_checked_address(pair):
    checked, _ = pair
    with Receiver("127.0.0.3") as closed:
        closed_port = closed.port
    url = f"http://{NAME}:{checked.port}/hook"
    assert closed_port != checked.port
    response = outbound.pinned_post(url, ["127.0.0.4", CHECKED], timeout=(1, 2), data=b"x")
    assert response.status_code == 200
    assert len(checked.received) == 1


def test_a_pinned_https_post_sends_sni_and_verifies_the_certificate_for_the_host_name(tmp_path):
    context, ca_file = tls_files(tmp_path, NAME)
    names = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    with Receiver(CHECKED, tls=context) as receiver:
        url = receiver.url(NAME, "https")
        response = outbound.pinned_post(url, [CHECKED], timeout=(2, 5), data=b"x", verify=ca_file)
    assert response.status_code == 200
    assert names == [NAME]
    assert f"host: {NAME}:{receiver.port}".encode() in receiver.received[0].head.lower()


def test_a_pinned_https_post_refuses_a_certificate_for_another_name(tmp_path):
    import requests

    context, ca_file = tls_files(tmp_path, "other.example.test")
    with Receiver(CHECKED, tls=context) as receiver:
        url = receiver.url(NAME, "https")
        with pytest.raises(requests.exceptions.SSLError):
            outbound.pinned_post(url, [CHECKED], timeout=(2, 5), data=b"x", verify=ca_file)
    assert receiver.received == []
