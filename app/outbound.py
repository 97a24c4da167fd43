"""The one seam for outbound HTTP: every call to a third party goes through here.

Bounded timeouts always; tests mock this seam with requests-mock and reach no network.
"""

from __future__ import annotations

from typing import Any

import requests

USER_AGENT = "reverse-otp/0.1"
# (connect, read) seconds.
DEFAULT_TIMEOUT = (3.05, 10.0)


class OutboundHTTP:
    """A requests session with our user agent and timeouts."""

    def __init__(self, timeout: tuple[float, float] = DEFAULT_TIMEOUT) -> None:
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("allow_redirects", False)
        return self.session.get(url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("allow_redirects", False)
        return self.session.post(url, **kwargs)
