"""The asynchronous client: the same calls as `Client`, awaited."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Optional

import httpx

from reverse_otp_client import _core
from reverse_otp_client._core import LONG_POLL, Retry
from reverse_otp_client.errors import NetworkError, ReverseOtpError
from reverse_otp_client.models import Challenge, CodeSent, CreatedChallenge, Status, from_json

__all__ = ["AsyncClient"]


class AsyncClient:
    """`async with AsyncClient(base_url, api_key) as client: await client.create(...)`."""

    def __init__(
        self,
        base_url: str,
        api_key: Optional[str] = None,
        *,
        timeout: float = 10.0,
        retry: Retry = Retry(),  # noqa: B008 - frozen, shared safely
        http: Optional[httpx.AsyncClient] = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.retry = retry
        self._own_http = http is None
        self._http = http or httpx.AsyncClient(headers={"User-Agent": _core.USER_AGENT})
        self._sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._own_http:
            await self._http.aclose()

    async def create(
        self,
        phone: Optional[str] = None,
        ttl: Optional[int] = None,
        metadata: Optional[dict[str, Any]] = None,
        callback_url: Optional[str] = None,
        client_ip: Optional[str] = None,
        channels: Optional[list[str]] = None,
        locale: Optional[str] = None,
        return_url: Optional[str] = None,
        email: Optional[str] = None,
    ) -> CreatedChallenge:
        """Create a challenge; without `phone` whoever texts the code is verified (discovery)."""
        body = _core.create_body(
            phone=phone,
            ttl=ttl,
            metadata=metadata,
            callback_url=callback_url,
            client_ip=client_ip,
            channels=channels,
            locale=locale,
            return_url=return_url,
            email=email,
        )
        data = await self._json("POST", _core.path("create"), json=body, auth=True)
        return from_json(CreatedChallenge, data)

    async def get(self, challenge_id: str) -> Challenge:
        data = await self._json("GET", _core.path("get", challenge_id=challenge_id), auth=True)
        return from_json(Challenge, data)

    async def cancel(self, challenge_id: str) -> Challenge:
        path = _core.path("cancel", challenge_id=challenge_id)
        return from_json(Challenge, await self._json("POST", path, auth=True))

    async def send_code(self, challenge_id: str, channel: Optional[str] = None) -> CodeSent:
        """Send a code by SMS to the challenge's expected phone, or with `channel="email"` by
        email to its expected `email` (the server's fallback, when it has `[[senders]]`; the
        default is sms with an expected phone, else email); the user types it and you pass it
        to `check`. Raises NotFound
        (`fallback_disabled`), RateLimited (cooldown, caps) and Unauthorized (403: a guard)."""
        path = _core.path("send", challenge_id=challenge_id)
        body = {"channel": channel} if channel else {}
        return from_json(CodeSent, await self._json("POST", path, json=body, auth=True))

    async def check(self, challenge_id: str, code: str) -> Challenge:
        path = _core.path("check", challenge_id=challenge_id)
        data = await self._json("POST", path, json={"code": code}, auth=True)
        return from_json(Challenge, data)

    async def jwks(self) -> dict[str, Any]:
        found: dict[str, Any] = await self._json("GET", _core.path("jwks"))
        return found

    async def status(self, token: str) -> Status:
        return from_json(Status, await self._json("GET", _core.path("status", token=token)))

    async def wait(self, token: str, timeout: float = 60.0) -> Status:
        """Long-poll until the status is final or `timeout` seconds pass; return the last status."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = max(0.0, deadline - time.monotonic())
            poll = min(remaining, LONG_POLL)
            data = await self._json(
                "GET",
                _core.path("wait", token=token),
                params={"wait": f"{poll:g}"},
                timeout=poll + self.timeout,
            )
            current = from_json(Status, data)
            if current.final or time.monotonic() >= deadline:
                return current

    async def events(self, token: str) -> AsyncIterator[Status]:
        """Yield the status from the live stream (SSE), then each change; end after a final one."""
        last_id: Optional[str] = None
        for reconnect in range(_core.STREAM_RECONNECTS + 1):
            parser = _core.SSEParser()
            headers = {"Accept": "text/event-stream"}
            if last_id is not None:
                headers["Last-Event-ID"] = last_id
            try:
                response = await self._stream(_core.path("events", token=token), headers)
                try:
                    if response.status_code == 204:
                        return
                    async for line in response.aiter_lines():
                        event = parser.feed(line)
                        if event is None:
                            continue
                        current = from_json(Status, _core.decode(event.data.encode()))
                        last_id = event.id
                        yield current
                        if current.final:
                            return
                finally:
                    await response.aclose()
            except httpx.TransportError as exc:
                if reconnect == _core.STREAM_RECONNECTS:
                    raise NetworkError("network_error", str(exc)) from exc
            await self._sleep((parser.retry_ms or 1000) / 1000)
        raise NetworkError("network_error", "the event stream kept ending before a final status")

    async def _json(
        self,
        method: str,
        path: str,
        *,
        json: Optional[dict[str, Any]] = None,
        params: Optional[dict[str, str]] = None,
        auth: bool = False,
        timeout: Optional[float] = None,
    ) -> Any:
        request = self._http.build_request(
            method,
            self.base_url + path,
            json=json,
            params=params,
            headers=self._headers(auth),
            timeout=timeout or self.timeout,
        )
        response = await self._send(request)
        return _core.decode(response.content)

    def _headers(self, auth: bool) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if auth:
            if not self.api_key:
                raise ReverseOtpError("no_api_key", "this call needs the client's api_key")
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    async def _send(self, request: httpx.Request, stream: bool = False) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = await self._http.send(request, stream=stream)
            except httpx.ConnectError as exc:
                wait = self.retry.delay(attempt, None)
                if wait is None:
                    raise NetworkError("network_error", str(exc)) from exc
            except httpx.TransportError as exc:
                raise NetworkError("network_error", str(exc)) from exc
            else:
                if response.status_code < 400:
                    return response
                if stream:
                    await response.aread()
                    await response.aclose()
                error = _core.error_for(
                    response.status_code, response.content, response.headers.get("Retry-After")
                )
                wait = (
                    self.retry.delay(attempt, error.retry_after)
                    if response.status_code in _core.RETRIED
                    else None
                )
                if wait is None:
                    raise error
            await self._sleep(wait)
            attempt += 1

    async def _stream(self, path: str, headers: dict[str, str]) -> httpx.Response:
        timeout = httpx.Timeout(self.timeout, read=max(60.0, self.timeout))
        request = self._http.build_request(
            "GET", self.base_url + path, headers=headers, timeout=timeout
        )
        return await self._send(request, stream=True)
