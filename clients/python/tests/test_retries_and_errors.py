"""Retries on 429/503 with backoff and Retry-After, and one exception family per error."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from reverse_otp_client import (
    AsyncClient,
    Client,
    Conflict,
    InvalidRequest,
    NetworkError,
    NotFound,
    ProtocolError,
    RateLimited,
    Retry,
    ReverseOtpError,
    Unauthorized,
    Unavailable,
)
from reverse_otp_client._core import retry_after

CHALLENGE: dict[str, Any] = {
    "id": "ch_1",
    "status": "cancelled",
    "to": "+15017122661",
    "phone": None,
    "created_at": "2026-03-01T09:29:00Z",
    "expires_at": "2026-03-01T09:39:00Z",
    "verified_phone": None,
    "verified_at": None,
    "attempts": 0,
    "failure_reason": None,
    "method": None,
    "metadata": {},
    "proof": None,
    "channels": ["sms"],
    "channel": None,
    "locale": None,
    "return_url": None,
}


def error(status: int, code: str, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"error": {"code": code, "message": f"{code} happened"}}
    return httpx.Response(status, json=body, headers=headers or {})


def scripted(*answers: httpx.Response) -> tuple[Client, list[httpx.Request], list[float]]:
    """A client whose server gives `answers` in turn; it records requests and sleeps."""
    requests: list[httpx.Request] = []
    sleeps: list[float] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return queue.pop(0)

    http = httpx.Client(transport=httpx.MockTransport(handler))
    client = Client("https://otp.example", "key", http=http)
    client._sleep = sleeps.append
    return client, requests, sleeps


def test_a_503_is_retried_and_the_retry_succeeds() -> None:
    client, requests, sleeps = scripted(
        error(503, "unavailable"), httpx.Response(200, json=CHALLENGE)
    )
    assert client.get("ch_1").id == "ch_1"
    assert len(requests) == 2 and len(sleeps) == 1 and 0.25 <= sleeps[0] <= 0.5
    assert requests[1].headers["Authorization"] == "Bearer key"


def test_the_retry_after_header_is_the_delay() -> None:
    client, _, sleeps = scripted(
        error(429, "rate_limited", {"Retry-After": "7"}), httpx.Response(200, json=CHALLENGE)
    )
    client.cancel("ch_1")
    assert sleeps == [7.0]


def test_retries_are_bounded_and_back_off() -> None:
    client, requests, sleeps = scripted(*[error(503, "storage_unavailable")] * 4)
    with pytest.raises(Unavailable) as caught:
        client.get("ch_1")
    assert caught.value.code == "storage_unavailable" and len(requests) == 4
    assert [round(s / (0.5 * 2**i), 2) <= 1 for i, s in enumerate(sleeps)] == [True] * 3
    assert sleeps[2] >= 0.5 * 4 * 0.5  # doubled twice, jitter at most halves it


def test_a_retry_after_beyond_the_bound_is_raised_at_once() -> None:
    client, requests, sleeps = scripted(error(429, "rate_limited", {"Retry-After": "3600"}))
    with pytest.raises(RateLimited) as caught:
        client.create(phone="+33612345678")
    assert caught.value.retry_after == 3600.0 and len(requests) == 1 and sleeps == []


def test_no_retry_when_told_so() -> None:
    client, requests, _ = scripted(error(503, "unavailable"))
    client.retry = Retry(attempts=0)
    with pytest.raises(Unavailable):
        client.get("ch_1")
    assert len(requests) == 1


@pytest.mark.parametrize(
    ("status", "family"),
    [
        (400, InvalidRequest),
        (401, Unauthorized),
        (404, NotFound),
        (409, Conflict),
        (413, InvalidRequest),
        (500, Unavailable),
        (418, ReverseOtpError),
    ],
)
def test_each_error_status_raises_its_family_with_the_code(
    status: int, family: type[ReverseOtpError]
) -> None:
    client, requests, _ = scripted(error(status, "some_code"))
    with pytest.raises(family) as caught:
        client.get("ch_1")
    assert caught.value.code == "some_code" and caught.value.status == status
    assert caught.value.message == "some_code happened" and len(requests) == 1


def test_an_error_without_the_json_shape_still_has_a_code() -> None:
    client, _, _ = scripted(httpx.Response(502, text="<html>bad gateway</html>"))
    client.retry = Retry(attempts=0)
    with pytest.raises(Unavailable) as caught:
        client.get("ch_1")
    assert caught.value.code == "http_502"


def test_an_answer_lacking_a_field_is_a_protocol_error() -> None:
    client, _, _ = scripted(httpx.Response(200, json={"id": "ch_1"}))
    with pytest.raises(ProtocolError) as caught:
        client.get("ch_1")
    assert caught.value.code == "invalid_response"


def test_an_unknown_new_field_is_ignored() -> None:
    client, _, _ = scripted(httpx.Response(200, json=CHALLENGE | {"later": True}))
    assert client.get("ch_1").status == "cancelled"


def test_create_sends_only_the_given_fields_as_json() -> None:
    created = CHALLENGE | {k: "x" for k in ("code", "body", "sms_uri", "qr_svg_url")}
    created |= {k: "x" for k in ("qr_png_url", "token", "status_url", "events_url", "verify_url")}
    created |= {"whatsapp": None}
    client, requests, _ = scripted(httpx.Response(201, json=created))
    client.create(ttl=120, metadata={"a": 1}, channels=["whatsapp"])
    sent = {"ttl": 120, "metadata": {"a": 1}, "channels": ["whatsapp"]}
    assert json.loads(requests[0].content) == sent
    assert requests[0].url.path == "/api/v1/challenges"


def test_a_refused_connection_is_retried_then_a_network_error() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        raise httpx.ConnectError("refused", request=request)

    client = Client(
        "https://otp.example", "key", http=httpx.Client(transport=httpx.MockTransport(handler))
    )
    client._sleep = lambda _: None
    with pytest.raises(NetworkError) as caught:
        client.get("ch_1")
    assert caught.value.code == "network_error" and len(calls) == 4


def test_calls_needing_the_key_refuse_without_it() -> None:
    with pytest.raises(ReverseOtpError) as caught:
        Client("https://otp.example").get("ch_1")
    assert caught.value.code == "no_api_key"


def test_path_parameters_are_quoted() -> None:
    client, requests, _ = scripted(httpx.Response(200, json=CHALLENGE))
    client.get("../admin")
    assert requests[0].url.raw_path == b"/api/v1/challenges/..%2Fadmin"


def test_the_async_client_retries_the_same_way() -> None:
    answers = [
        error(429, "rate_limited", {"Retry-After": "2"}),
        httpx.Response(200, json=CHALLENGE),
    ]
    sleeps: list[float] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        return answers.pop(0)

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def run() -> str:
        http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        async with AsyncClient("https://otp.example", "key", http=http) as client:
            client._sleep = fake_sleep
            found = await client.get("ch_1")
        await http.aclose()
        return found.id

    assert asyncio.run(run()) == "ch_1" and sleeps == [2.0]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("12", 12.0),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 30.0),
    ],
)
def test_retry_after_reads_seconds_and_dates(header: str | None, expected: float | None) -> None:
    now = 1445412450.0  # 30 s before the date above
    assert retry_after(header, now=now) == expected
