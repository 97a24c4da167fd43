"""Where the hosted page sends the user back: an integrator's `return_url`, checked.

An open redirect lets a phisher borrow our page's trust, so a return URL is refused unless
it is plain ASCII (a look-alike host must be written in punycode, where it shows), https
(http only for localhost in development mode), without credentials, backslashes,
control characters or percent signs in its host, and its origin is one the operator allowed.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MAX_URL_LENGTH = 2000
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
DEFAULT_PORTS = {"https": 443, "http": 80}
# What the page appends; an integrator's own parameters of these names are replaced.
ADDED = ("challenge_id", "status")


class InvalidReturnUrl(ValueError):
    """A return URL or allowed origin the page must not lead to."""


def check(url: str, allowed: frozenset[str], development: bool = False) -> str:
    """Return a return URL the page may lead to, or raise InvalidReturnUrl saying why."""
    origin = _origin(url, development)
    if origin not in allowed:
        raise InvalidReturnUrl(
            f"origin {origin} is not allowed: add it to the app's return origins or to"
            " [page] return_origins"
        )
    return url


def check_origin(origin: str, development: bool = True) -> str:
    """Return an allowed-origin setting in its canonical form (`https://host[:port]`)."""
    canonical = _origin(origin, development)
    parts = urlsplit(origin)
    if parts.path not in ("", "/") or parts.query or parts.fragment or origin.endswith(("?", "#")):
        raise InvalidReturnUrl(f"an origin is scheme://host[:port] only, like {canonical}")
    return canonical


def _origin(url: str, development: bool) -> str:
    if len(url) > MAX_URL_LENGTH:
        raise InvalidReturnUrl(f"at most {MAX_URL_LENGTH} characters")
    if not url.isascii() or not url.isprintable() or any(c in url for c in " \\\t"):
        raise InvalidReturnUrl(
            "only printable ASCII without spaces or backslashes (write hosts in punycode)"
        )
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not url.lower().startswith(scheme + "://"):
        raise InvalidReturnUrl("must be an absolute https:// URL")
    if "@" in parts.netloc or "%" in parts.netloc:
        raise InvalidReturnUrl("must not hold credentials or escapes before the host")
    try:
        port = parts.port
    except ValueError:
        raise InvalidReturnUrl("has an invalid port") from None
    host = (parts.hostname or "").lower()
    if not host or host.startswith(".") or host.endswith("."):
        raise InvalidReturnUrl("must name a host")
    shown = f"[{host}]" if ":" in host else host
    if scheme == "http" and not (development and shown in LOCAL_HOSTS):
        raise InvalidReturnUrl("must be https (http only for localhost in development mode)")
    if port is not None and port != DEFAULT_PORTS[scheme]:
        shown += f":{port}"
    return f"{scheme}://{shown}"


def with_result(url: str, challenge_id: str, status: str) -> str:
    """Return the URL with `challenge_id` and `status` appended, its other parameters kept."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in ADDED]
    query += [("challenge_id", challenge_id), ("status", status)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def with_proof(url: str, proof: str) -> str:
    """Return the URL with `proof=<jws>` in its fragment, never in its query.

    A fragment stays in the browser: it is not sent to the app's server, written in its
    access logs or passed on in a Referer. An integrator's own fragment is kept, the proof
    added as one more `&`-separated parameter (`#step=2&proof=...`), an own `proof` in it
    replaced; `new URLSearchParams(location.hash.slice(1)).get("proof")` reads it either way.
    """
    parts = urlsplit(url)
    kept = [p for p in parts.fragment.split("&") if p and p.split("=", 1)[0] != "proof"]
    return urlunsplit(parts._replace(fragment="&".join([*kept, f"proof={proof}"])))
