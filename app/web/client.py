"""The client's address, as far as it can be trusted."""

from __future__ import annotations

from flask import request


def client_ip(trusted_proxies: int) -> str:
    """Return the client's IP address.

    With no trusted proxy (the default) this is the TCP peer: X-Forwarded-For is anyone's to
    forge. Behind `trusted_proxies` reverse proxies that each append the address they saw,
    the client is that many entries from the right of X-Forwarded-For; a shorter header means
    a request that did not come through them, so the peer address is used.
    """
    peer = request.remote_addr or ""
    if trusted_proxies <= 0:
        return peer
    chain = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",") if a.strip()]
    if len(chain) < trusted_proxies:
        return peer
    return chain[-trusted_proxies]
