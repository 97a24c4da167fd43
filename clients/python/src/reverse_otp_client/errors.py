"""One exception class per error family; each carries the server's stable error `code`."""

from __future__ import annotations

from typing import Optional


class ReverseOtpError(Exception):
    """Any error of this client. `code` is the server's stable word (e.g. `not_found`)."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: Optional[int] = None,
        retry_after: Optional[float] = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.retry_after = retry_after


class InvalidRequest(ReverseOtpError):
    """400 or 413: the request is invalid; `message` names the problem."""


class Unauthorized(ReverseOtpError):
    """401 or 403: the API key is missing or wrong."""


class NotFound(ReverseOtpError):
    """404: no such challenge (or another app's), or an unknown status token."""


class Conflict(ReverseOtpError):
    """409: the challenge is already final."""


class RateLimited(ReverseOtpError):
    """429: a limit is reached; `retry_after` is the server's hint in seconds, if any."""


class Unavailable(ReverseOtpError):
    """503 or another 5xx: storage or a component is unavailable (502: the SMS provider did not
    take a code); retry later."""


class NetworkError(ReverseOtpError):
    """The server could not be reached or the connection broke (code `network_error`)."""


class ProtocolError(ReverseOtpError):
    """The server answered something this client cannot read (code `invalid_response`)."""


class InvalidCallback(ReverseOtpError):
    """A callback failed verification: `missing_headers`, `stale_timestamp`, `bad_signature`,
    `invalid_secret` or `invalid_body`."""


class InvalidProof(ReverseOtpError):
    """A proof failed verification: `malformed`, `unknown_key`, `bad_signature`, `expired`,
    `wrong_audience`, `wrong_issuer` or `missing_claim`."""


# Status code -> family; any other 4xx is a plain ReverseOtpError.
FAMILIES = {
    400: InvalidRequest,
    401: Unauthorized,
    403: Unauthorized,
    404: NotFound,
    409: Conflict,
    413: InvalidRequest,
    429: RateLimited,
    502: Unavailable,
    503: Unavailable,
}


def for_status(status: int) -> type[ReverseOtpError]:
    """Return the exception class answering an HTTP status."""
    if status in FAMILIES:
        return FAMILIES[status]
    return Unavailable if status >= 500 else ReverseOtpError
