"""The synchronous client."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, Optional

import httpx

from reverse_otp_client import _core
from reverse_otp_client._core import LONG_POLL, Retry
from reverse_otp_client.errors import NetworkError, ReverseOtpError
from reverse_otp_client.models import Challenge, CodeSent, CreatedChallenge, Status, from_json

__all__ = ["Client"]


class Client:
    """Talk to a reverse-otp server: `Client("https://verify.example.com", api_key="...")`.

    `create`, `get` and `cancel` need the API key; `status`, `wait` and `events` need only a
    challenge's status token (the user's browser may call those itself). Answers 429 and 503
    are retried as `retry` says; errors raise a `ReverseOtpError` subclass carrying `code`.
    """

    def __init__(
        self,
        base_url: str,
        api_key: Optional[str] = None,
        *,
        timeout: float = 10.0,
        retry: Retry = Retry(),  # noqa: B008 - frozen, shared safely
        http: Optional[httpx.Client] = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.retry = retry
        self._own_http = http is None
        self._http = http or httpx.Client(headers={"User-Agent": _core.USER_AGENT})
        self._sleep: Callable[[float], None] = time.sleep

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool (unless it was passed in as `http`)."""
        if self._own_http:
            self._http.close()

    # -- integrator calls (API key) -------------------------------------------------------

    def create(
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
        """Create a challenge; without `phone` whoever texts the code is verified (discovery).

        `client_ip` is the end user's address as your backend sees it: the server's per-IP
        creation limit counts it (and only when it is given). `channels` ("sms", "whatsapp";
        default: every channel the server's numbers receive) are how the user may send the code.
        `locale` (BCP 47, e.g. "fr") fixes the language of the SMS and the hosted page;
        `return_url` (https, an allowed origin) is where the hosted page leads when done,
        with `challenge_id` and `status`.
        `email` is an expected address the server's fallback may email a code to
        (`send_code(id, channel="email")`).
        """
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
        data = self._json("POST", _core.path("create"), json=body, auth=True)
        return from_json(CreatedChallenge, data)

    def get(self, challenge_id: str) -> Challenge:
        """Return a challenge's full view."""
        data = self._json("GET", _core.path("get", challenge_id=challenge_id), auth=True)
        return from_json(Challenge, data)

    def cancel(self, challenge_id: str) -> Challenge:
        """Cancel a pending challenge; raises Conflict when it is already final."""
        data = self._json("POST", _core.path("cancel", challenge_id=challenge_id), auth=True)
        return from_json(Challenge, data)

    def send_code(self, challenge_id: str, channel: Optional[str] = None) -> CodeSent:
        """Send a code by SMS to the challenge's expected phone, or with `channel="email"` by
        email to its expected `email` (the server's fallback, when it has `[[senders]]`; the
        default is sms with an expected phone, else email); the user types it and you pass it
        to `check`. Raises NotFound
        (`fallback_disabled`), RateLimited (cooldown, caps) and Unauthorized (403: a guard)."""
        path = _core.path("send", challenge_id=challenge_id)
        body = {"channel": channel} if channel else {}
        return from_json(CodeSent, self._json("POST", path, json=body, auth=True))

    def check(self, challenge_id: str, code: str) -> Challenge:
        """Present a code the user typed (a `[[test_numbers]]` phone's code); return the challenge.

        A wrong code is a failed attempt (see `attempts`). Raises Unauthorized (403
        `check_refused`) for discovery challenges and phones no source of codes knows.
        """
        path = _core.path("check", challenge_id=challenge_id)
        return from_json(Challenge, self._json("POST", path, json={"code": code}, auth=True))

    def jwks(self) -> dict[str, Any]:
        """Return the server's JWK Set: the public keys that verify proofs (no key needed)."""
        found: dict[str, Any] = self._json("GET", _core.path("jwks"))
        return found

    # -- status token calls --------------------------------------------------------------------

    def status(self, token: str) -> Status:
        """Return the status a token grants, at once."""
        return from_json(Status, self._json("GET", _core.path("status", token=token)))

    def wait(self, token: str, timeout: float = 60.0) -> Status:
        """Long-poll until the status is final or `timeout` seconds pass; return the last status."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = max(0.0, deadline - time.monotonic())
            poll = min(remaining, LONG_POLL)
            data = self._json(
                "GET",
                _core.path("wait", token=token),
                params={"wait": f"{poll:g}"},
                timeout=poll + self.timeout,
            )
            current = from_json(Status, data)
            if current.final or time.monotonic() >= deadline:
                return current

    def events(self, token: str) -> Iterator[Status]:
        """Yield the status from the live stream (SSE), then each change; end after a final one.

        A dropped connection is resumed (with `Last-Event-ID`) a few times before NetworkError.
        """
        last_id: Optional[str] = None
        for reconnect in range(_core.STREAM_RECONNECTS + 1):
            parser = _core.SSEParser()
            headers = {"Accept": "text/event-stream"}
            if last_id is not None:
                headers["Last-Event-ID"] = last_id
            try:
                with self._stream(_core.path("events", token=token), headers) as response:
                    if response.status_code == 204:
                        return
                    for line in response.iter_lines():
                        event = parser.feed(line)
                        if event is None:
                            continue
                        current = from_json(Status, _core.decode(event.data.encode()))
                        last_id = event.id
                        yield current
                        if current.final:
                            return
            except httpx.TransportError as exc:
                if reconnect == _core.STREAM_RECONNECTS:
                    raise NetworkError("network_error", str(exc)) from exc
            self._sleep((parser.retry_ms or 1000) / 1000)
        raise NetworkError("network_error", "the event stream kept ending before a final status")

    # -- transport -----------------------------------------------------------------------------

    def _json(
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
        response = self._send(request)
        return _core.decode(response.content)

    def _headers(self, auth: bool) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if auth:
            if not self.api_key:
                raise ReverseOtpError("no_api_key", "this call needs the client's api_key")
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def _send(self, request: httpx.Request, stream: bool = False) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = self._http.send(request, stream=stream)
            except httpx.ConnectError as exc:  # nothing was sent: safe to retry any call
                wait = self.retry.delay(attempt, None)
                if wait is None:
                    raise NetworkError("network_error", str(exc)) from exc
            except httpx.TransportError as exc:
                raise NetworkError("network_error", str(exc)) from exc
            else:
                if response.status_code < 400:
                    return response
                if stream:
                    response.read()
                    response.close()
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
            self._sleep(wait)
            attempt += 1

    def _stream(self, path: str, headers: dict[str, str]) -> _Streamed:
        timeout = httpx.Timeout(self.timeout, read=max(60.0, self.timeout))
        request = self._http.build_request(
            "GET", self.base_url + path, headers=headers, timeout=timeout
        )
        return _Streamed(self._send(request, stream=True))


class _Streamed:
    """A streamed answer, closed when the `with` block ends."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response

    def __enter__(self) -> httpx.Response:
        return self.response

    def __exit__(self, *exc: object) -> None:
        self.response.close()
