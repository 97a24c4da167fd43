"""Return URLs: only to an allowed origin, never an open redirect."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from app.domain import returns

ALLOWED = frozenset({"https://shop.example", "https://app.example:8443"})


@pytest.mark.parametrize(
    "url",
    [
        "https://shop.example/done",
        "https://SHOP.example/done?step=2#top",
        "https://shop.example:443/done",
        "https://app.example:8443/",
    ],
)
def test_urls_of_an_allowed_origin_are_accepted(url):
    assert returns.check(url, ALLOWED) == url


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/done",  # another origin
        "https://shop.example.evil.example/",  # the allowed host as a prefix
        "https://evilshop.example/",
        "https://app.example/",  # the right host on another port
        "http://shop.example/done",  # not https
        "javascript:alert(document.cookie)",
        "JavaScript://shop.example/%0aalert(1)",
        "data:text/html,<script>alert(1)</script>",
        "//evil.example/done",  # scheme-relative
        "/relative/path",
        "https:evil.example",
        "https:/evil.example",
        "https:///evil.example",
        "https://shop.example@evil.example/",  # userinfo: the host is evil.example
        "https://evil.example@shop.example/",  # userinfo: credentials smuggled in
        "https://shop.example:pass@evil.example/",
        "https://evil.example\\@shop.example/",  # backslash: browsers read it as a slash
        "https:\\\\evil.example",
        "https://shop.example\\.evil.example/",
        "https://sh\u043ep.example/",  # Cyrillic o: a look-alike host
        "https://xn--shp-9cd.example/",  # the same look-alike in punycode: another origin
        "https://shop.example\u3002evil/",  # ideographic full stop
        "https://shop.example/\u202e",  # bidi control
        "https://shop.example/ done",
        "https://shop.example/\tdone",
        "https://shop.example/\ndone",
        "https://shop%2eexample/",
        "https://shop.example:99999/",
        "https://shop.example./",
        "https://",
        "https://shop.example/" + "a" * 2000,  # overlong
    ],
)
def test_open_redirect_attempts_are_refused(url):
    with pytest.raises(returns.InvalidReturnUrl):
        returns.check(url, ALLOWED)


def test_http_is_allowed_for_localhost_in_development_only():
    local = frozenset({"http://localhost:3000", "http://127.0.0.1:3000"})
    assert returns.check("http://localhost:3000/done", local, development=True)
    assert returns.check("http://127.0.0.1:3000/done", local, development=True)
    with pytest.raises(returns.InvalidReturnUrl, match="https"):
        returns.check("http://localhost:3000/done", local, development=False)
    with pytest.raises(returns.InvalidReturnUrl, match="https"):
        returns.check("http://shop.example/", frozenset({"http://shop.example"}), True)


def test_the_result_is_appended_and_the_apps_own_parameters_kept():
    url = "https://shop.example/done?step=2&status=forged&x=#top"
    result = urlsplit(returns.with_result(url, "ch_123", "verified"))
    assert parse_qsl(result.query, keep_blank_values=True) == [
        ("step", "2"), ("x", ""), ("challenge_id", "ch_123"), ("status", "verified"),
    ]  # fmt: skip
    assert result.fragment == "top"
    assert result.netloc == "shop.example"


@pytest.mark.parametrize(
    ("origin", "canonical"),
    [("https://Shop.Example", "https://shop.example"), ("https://shop.example:443", "https://shop.example"),
     ("https://shop.example/", "https://shop.example")],
)  # fmt: skip
def test_allowed_origins_are_read_in_canonical_form(origin, canonical):
    assert returns.check_origin(origin) == canonical


@pytest.mark.parametrize(
    "origin", ["https://shop.example/path", "shop.example", "https://a@b.example"]
)
def test_an_allowed_origin_is_only_scheme_host_and_port(origin):
    with pytest.raises(returns.InvalidReturnUrl):
        returns.check_origin(origin)


@pytest.mark.parametrize(
    ("url", "fragment"),
    [("https://shop.example/done?a=1", "proof=J.W.S"),
     ("https://shop.example/done#top", "top&proof=J.W.S"),
     ("https://shop.example/done#step=2&proof=forged", "step=2&proof=J.W.S"),
     ("https://shop.example/done#proof&x=1", "x=1&proof=J.W.S"),
     ("https://shop.example/done#", "proof=J.W.S")],
)  # fmt: skip
def test_the_proof_goes_in_the_fragment_beside_the_integrators_own(url, fragment):
    result = urlsplit(returns.with_proof(url, "J.W.S"))
    assert result.fragment == fragment
    assert "J.W.S" not in result.query
    assert (result.path, result.query) == (urlsplit(url).path, urlsplit(url).query)
