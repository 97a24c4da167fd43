"""`return_url` on create: only to an allowed origin; the hosted page's way back to the app."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from app import create_app
from app.config import load
from app.domain.challenges import InboundMessage
from app.usecases import apps, challenges, context, inbound
from tests.conftest import AUTH, NUMBER, development_settings, runtime

SHOP = "https://shop.example"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"page": {"return_origins": [SHOP]}}


def create(client, headers=AUTH, **body):
    return client.post("/api/v1/challenges", json=body, headers=headers)


def verify(ctx, created):
    text = created["body"]
    sender = created["phone"] or "+33612345678"
    inbound.record_inbound(ctx, InboundMessage("simulator", "m1", sender, NUMBER, text, sender))


def on_simulator(client, **body):
    for _ in range(4):
        made = create(client, **body).json
        if made["to"] == NUMBER:
            return made
    raise AssertionError("no challenge on the simulator number")


def test_a_return_url_of_an_allowed_origin_is_kept_and_shown_to_the_integrator(client):
    answer = create(client, return_url=SHOP + "/signup/done?step=3")
    assert answer.status_code == 201
    assert answer.json["return_url"] == SHOP + "/signup/done?step=3"
    shown = client.get(f"/api/v1/challenges/{answer.json['id']}", headers=AUTH).json
    assert shown["return_url"] == SHOP + "/signup/done?step=3"


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/",
        "javascript:alert(1)",
        "//evil.example/",
        "https://shop.example@evil.example/",
        "https://evil.example\\@shop.example/",
        "https://sh\u043ep.example/",  # Cyrillic o
        "http://shop.example/",
        SHOP + "/" + "a" * 2000,
    ],
)
def test_an_open_redirect_is_refused_with_400_naming_return_url(client, ctx, url):
    later = ctx.clock.now() + timedelta(days=1)
    before = len(ctx.store.due_expiries(later, 99))
    answer = create(client, return_url=url)
    assert answer.status_code == 400
    assert answer.json["error"]["code"] in {"invalid_return_url", "invalid_request"}
    assert "return_url" in answer.json["error"]["message"]
    after = len(ctx.store.due_expiries(later, 99))
    assert after == before  # nothing was created


@pytest.mark.parametrize("value", [42, ["https://shop.example/"], {"url": SHOP}])
def test_a_return_url_that_is_not_a_string_is_refused(client, value):
    answer = create(client, return_url=value)
    assert answer.status_code == 400
    assert answer.json["error"]["message"].startswith("return_url")


def test_an_apps_own_return_origins_allow_its_urls_only(client, ctx):
    made = apps.register(ctx, "Other Shop", return_origins=("https://other.example",))
    theirs = {"Authorization": f"Bearer {made.key}"}
    assert create(client, theirs, return_url="https://other.example/x").status_code == 201
    assert create(client, theirs, return_url=SHOP + "/x").status_code == 201  # [page] origins
    assert create(client, AUTH, return_url="https://other.example/x").status_code == 400


def test_an_app_cannot_be_given_a_bad_return_origin(ctx):
    with pytest.raises(context.ServiceError, match="return origin"):
        apps.register(ctx, "Bad", return_origins=("https://shop.example/path",))


def test_verified_page_continues_to_the_return_url_with_id_and_status(client, ctx):
    created = on_simulator(client, return_url=SHOP + "/done?step=3#top")
    verify(ctx, created)
    html = client.get(f"/v/{created['token']}").get_data(as_text=True)
    href = re.search(r'id="continue-verified" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    parts = urlsplit(href)
    assert (parts.scheme, parts.netloc, parts.path, parts.fragment) == (
        "https", "shop.example", "/done", "top",
    )  # fmt: skip
    assert parse_qsl(parts.query) == [
        ("step", "3"), ("challenge_id", created["id"]), ("status", "verified"),
    ]  # fmt: skip
    # Without JavaScript, the page leads back after a short moment too.
    assert re.search(r'<noscript><meta http-equiv="refresh" content="3;url=https://shop', html)


def test_every_final_state_offers_continue_with_its_status(client, ctx):
    created = create(client, return_url=SHOP + "/done").json
    challenges.cancel_challenge(ctx, created["id"])
    html = client.get(f"/v/{created['token']}").get_data(as_text=True)
    href = re.search(r'id="continue-cancelled" href="([^"]+)"', html).group(1)
    assert href.replace("&amp;", "&").endswith(f"challenge_id={created['id']}&status=cancelled")
    assert 'http-equiv="refresh" content="3' not in html  # only verification leads back alone


def test_without_a_return_url_the_final_page_says_to_return_to_the_app(client, ctx):
    created = create(client).json
    challenges.cancel_challenge(ctx, created["id"])
    html = client.get(f"/v/{created['token']}").get_data(as_text=True)
    assert "continue-" not in html
    assert "if you still need to verify" in html


def test_http_localhost_is_allowed_in_development_mode_only(tmp_path, clock):
    raw = development_settings(tmp_path, page={"return_origins": ["http://localhost:3000"]})
    app = create_app(load(overrides=raw, environ={}), clock=clock)
    try:
        answer = app.test_client().post(
            "/api/v1/challenges", json={"return_url": "http://localhost:3000/done"}, headers=AUTH
        )
    finally:
        runtime(app).ctx.store.dispose()
    assert answer.status_code == 201, answer.json
