"""The whole flow through the client, against the real server (clients/ci.sh starts it)."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time

import pytest

from reverse_otp_client import (
    AsyncClient,
    Client,
    Conflict,
    InvalidCallback,
    InvalidRequest,
    NotFound,
    Status,
    Unauthorized,
    verify_callback,
)
from tests.conftest import Receiver, Server, new_phone


def text_in(
    server: Server, sender: str, to: str, body: str, delay: float = 0.3
) -> threading.Thread:
    """Send the SMS from another thread a little later, while the client is waiting."""

    def send() -> None:
        time.sleep(delay)
        assert server.send_sms(sender, to, body).status_code == 200

    thread = threading.Thread(target=send)
    thread.start()
    return thread


def test_a_challenge_is_verified_by_sms_and_seen_by_long_poll(server: Server) -> None:
    phone = new_phone()
    with Client(server.url, server.api_key) as client:
        created = client.create(
            phone=phone, ttl=300, metadata={"order": 42}, client_ip="203.0.113.7"
        )
        assert created.status == "pending" and created.phone == phone
        assert created.code in created.body and created.metadata == {"order": 42}
        assert client.status(created.token).status == "pending"
        sender = text_in(server, phone, created.to, created.body)
        status = client.wait(created.token, timeout=20)
        sender.join()
        assert status.status == "verified" and status.final
        shown = client.get(created.id)
    assert shown.status == "verified" and shown.verified_phone == phone


def test_the_event_stream_yields_pending_then_verified(server: Server) -> None:
    phone = new_phone()
    with Client(server.url, server.api_key) as client:
        created = client.create(phone=phone)
        seen: list[Status] = []
        sender = None
        for status in client.events(created.token):
            seen.append(status)
            if status.status == "pending" and sender is None:
                sender = text_in(server, phone, created.to, created.body, delay=0.1)
        assert sender is not None
        sender.join()
    assert [s.status for s in seen] == ["pending", "verified"]


def test_locale_and_return_url_are_sent_and_shown(server: Server) -> None:
    with Client(server.url, server.api_key) as client:
        created = client.create(locale="fr-CA", return_url="https://shop.example/done?step=2")
        assert created.locale == "fr" and created.body.startswith("VERIFIER ")
        assert created.return_url == "https://shop.example/done?step=2"
        assert client.get(created.id).return_url == created.return_url
        with pytest.raises(InvalidRequest) as elsewhere:
            client.create(return_url="https://evil.example/")
        with pytest.raises(InvalidRequest) as malformed:
            client.create(locale="not a tag")
    assert elsewhere.value.code == "invalid_return_url"
    assert "return_url" in elsewhere.value.message
    assert "locale" in malformed.value.message


def test_cancel_ends_a_challenge_and_a_second_cancel_is_a_conflict(server: Server) -> None:
    with Client(server.url, server.api_key) as client:
        created = client.create(phone=new_phone())
        assert client.cancel(created.id).status == "cancelled"
        assert client.wait(created.token, timeout=5).status == "cancelled"
        with pytest.raises(Conflict) as caught:
            client.cancel(created.id)
    assert caught.value.status == 409 and caught.value.code


def test_errors_carry_the_servers_code(server: Server) -> None:
    with Client(server.url, server.api_key) as client:
        with pytest.raises(InvalidRequest) as invalid:
            client.create(phone="not a phone")
        with pytest.raises(InvalidRequest) as bad_ip:
            client.create(client_ip="not an address")
        with pytest.raises(NotFound) as missing:
            client.get("ch_nothing")
    with Client(server.url, "wrong-key") as stranger, pytest.raises(Unauthorized) as refused:
        stranger.create()
    assert invalid.value.code == "invalid_phone"
    assert bad_ip.value.code == "invalid_request" and "client_ip" in bad_ip.value.message
    assert missing.value.code == "not_found"
    assert refused.value.code == "unauthorized"


def test_an_expected_email_is_sent_and_a_header_injection_refused(server: Server) -> None:
    with Client(server.url, server.api_key) as client:
        created = client.create(email="jane.doe@example.org")
        with pytest.raises(InvalidRequest) as injected:
            client.create(email="jane@example.org\r\nBcc: all@victim.example")
    assert created.status == "pending"
    assert injected.value.code == "invalid_request" and injected.value.message.startswith("email:")


def test_a_callback_is_received_verified_and_a_tampered_one_refused(
    server: Server, receiver: Receiver
) -> None:
    phone = new_phone()
    with Client(server.url, server.api_key) as client:
        created = client.create(phone=phone, callback_url=receiver.url, metadata={"n": 1})
        assert server.send_sms(phone, created.to, created.body).status_code == 200
        delivery = receiver.next()
    event = verify_callback(delivery.body, delivery.headers, server.callback_secret)
    assert event.type == "challenge.verified"
    assert event.data.id == created.id and event.data.status == "verified"
    assert event.data.metadata == {"n": 1} and event.data.ended_at
    assert event.id == {k.lower(): v for k, v in delivery.headers.items()}["webhook-id"]
    tampered = json.loads(delivery.body)
    tampered["data"]["verified_phone"] = "+15550000000"
    with pytest.raises(InvalidCallback) as refused:
        verify_callback(json.dumps(tampered).encode(), delivery.headers, server.callback_secret)
    assert refused.value.code == "bad_signature"
    with pytest.raises(InvalidCallback):
        verify_callback(delivery.body, delivery.headers, "whsec_" + "QUJD" * 8)


def test_the_async_client_runs_the_same_flow(server: Server) -> None:
    async def flow() -> list[str]:
        phone = new_phone()
        async with AsyncClient(server.url, server.api_key) as client:
            created = await client.create(phone=phone)
            seen: list[str] = []
            async for status in client.events(created.token):
                seen.append(status.status)
                if status.status == "pending":
                    await asyncio.to_thread(server.send_sms, phone, created.to, created.body)
            assert (await client.wait(created.token, timeout=5)).status == "verified"
            other = await client.create(phone=new_phone())
            assert (await client.cancel(other.id)).status == "cancelled"
            assert (await client.get(other.id)).status == "cancelled"
            return seen

    assert asyncio.run(flow()) == ["pending", "verified"]


def test_a_test_number_is_verified_by_check_and_a_real_phone_is_refused() -> None:
    url, key = (
        os.environ["REVERSE_OTP_CLIENT_TEST_URL"],
        os.environ["REVERSE_OTP_CLIENT_TEST_API_KEY"],
    )
    phone, code = (
        os.environ["REVERSE_OTP_CLIENT_TEST_NUMBER"],
        os.environ["REVERSE_OTP_CLIENT_TEST_CODE"],
    )
    with Client(url, key) as client:
        created = client.create(phone=phone)
        wrong = client.check(created.id, "not-the-code")
        assert (wrong.status, wrong.attempts, wrong.method) == ("pending", 1, None)
        verified = client.check(created.id, code)
        assert (verified.status, verified.method) == ("verified", "test")
        real = client.create(phone=new_phone())
        with pytest.raises(Unauthorized) as refused:
            client.check(real.id, code)
        assert refused.value.code == "check_refused"
        assert client.get(real.id).attempts == 0
