"""The SSE helper: parsing, the end at a final status, and resuming a dropped stream."""

from __future__ import annotations

import asyncio
import json

import httpx

from reverse_otp_client import AsyncClient, Client
from reverse_otp_client._core import SSEParser


def frame(status: str) -> str:
    data = {"expires_at": "2027-01-15T08:09:00Z", "phone": None, "verified_at": None, "attempts": 0}
    data["channel"] = "whatsapp" if status == "verified" else None
    return f"id: {status}\nevent: {status}\ndata: {json.dumps(data | {'status': status})}\n\n"


def streaming(*bodies: str, status: int = 200) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(bodies)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if not queue:
            return httpx.Response(204)
        return httpx.Response(
            status, text=queue.pop(0), headers={"Content-Type": "text/event-stream"}
        )

    return httpx.MockTransport(handler), seen


def test_the_parser_reads_fields_comments_and_multiline_data() -> None:
    parser = SSEParser()
    lines = [
        "retry: 3000",
        "",
        ": keep-alive",
        "",
        "id: x",
        "event: pending",
        "data: a",
        "data:b",
        "",
    ]
    events = [e for e in map(parser.feed, lines) if e is not None]
    assert [(e.event, e.data, e.id) for e in events] == [("pending", "a\nb", "x")]
    assert parser.retry_ms == 3000


def test_events_yield_each_status_and_end_after_a_final_one() -> None:
    transport, seen = streaming("retry: 10\n\n" + frame("pending") + frame("verified") + frame("x"))
    client = Client("https://otp.example", http=httpx.Client(transport=transport))
    assert [s.status for s in client.events("tok")] == ["pending", "verified"]
    assert len(seen) == 1 and seen[0].url.path == "/api/v1/status/tok/events"


def test_a_dropped_stream_resumes_with_the_last_event_id() -> None:
    transport, seen = streaming("retry: 10\n\n" + frame("pending"), frame("verified"))
    client = Client("https://otp.example", http=httpx.Client(transport=transport))
    sleeps: list[float] = []
    client._sleep = sleeps.append
    assert [s.status for s in client.events("tok")] == ["pending", "verified"]
    assert seen[1].headers["Last-Event-ID"] == "pending" and sleeps == [0.01]


def test_a_204_ends_the_stream() -> None:
    transport, _ = streaming()
    client = Client("https://otp.example", http=httpx.Client(transport=transport))
    assert list(client.events("tok")) == []


def test_the_async_events_do_the_same() -> None:
    transport, seen = streaming(frame("pending"), frame("expired"))

    async def noop(_: float) -> None:
        return None

    async def run() -> list[str]:
        async with AsyncClient(
            "https://otp.example", http=httpx.AsyncClient(transport=transport)
        ) as c:
            c._sleep = noop
            return [s.status async for s in c.events("tok")]

    assert asyncio.run(run()) == ["pending", "expired"]
    assert seen[1].headers["Last-Event-ID"] == "pending"
