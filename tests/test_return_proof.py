"""The hosted page's way back to the app carries the proof of a verified challenge in its
fragment (docs/proofs.md): it verifies against the JWKS, only a verified page has it, and
it appears in no logged URL and in no other answer the status token opens."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import jwt
import pytest

from app.clock import FakeClock
from tests.callback_helpers import PHONE, SIMULATOR_ONLY, create, text_in
from tests.conftest import AUTH
from tests.test_proofs import check, jwks_of, key_file

SHOP = "https://shop.example"


@pytest.fixture
def settings_overrides(tmp_path) -> dict[str, Any]:
    folder = tmp_path / "keys"
    folder.mkdir()
    return {
        "proofs": {"key_file": key_file(folder, "a")},
        "page": {"return_origins": [SHOP]},
        "numbers": SIMULATOR_ONLY,
    }


@pytest.fixture
def clock() -> FakeClock:
    # Real time: PyJWT checks exp against the real clock.
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


def continue_href(html: str, status: str) -> str:
    found = re.search(rf'id="continue-{status}" href="([^"]+)"', html)
    assert found, f"no Continue link for {status}"
    return found.group(1).replace("&amp;", "&")


def page_of(client, made: dict) -> str:
    answer = client.get(f"/v/{made['token']}")
    assert answer.status_code == 200
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    return answer.get_data(as_text=True)


def test_the_verified_pages_continue_link_carries_a_proof_in_its_fragment(client):
    made = create(client, phone=PHONE, return_url=SHOP + "/signup?step=3")
    assert text_in(client, PHONE, made["body"]) == 200
    html = page_of(client, made)
    parts = urlsplit(continue_href(html, "verified"))
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "shop.example", "/signup")
    # The query says what it always said; the proof is in the fragment only.
    assert parse_qsl(parts.query) == [
        ("step", "3"), ("challenge_id", made["id"]), ("status", "verified"),
    ]  # fmt: skip
    assert "proof" not in parts.query
    proof = parse_qs(parts.fragment)["proof"][0]
    claims = check(proof, jwks_of(client), audience="default")
    assert (claims["sub"], claims["jti"], claims["amr"]) == (PHONE, made["id"], ["sms"])
    # The same proof without JavaScript (meta refresh), and the API's own matches its claims.
    assert f"url={SHOP}/signup?step=3&amp;challenge_id={made['id']}&amp;status=verified#proof=" in (
        html
    )
    api = client.get(f"/api/v1/challenges/{made['id']}", headers=AUTH).json
    assert check(api["proof"], jwks_of(client)) == claims


def test_an_own_fragment_is_kept_and_the_proof_added_to_it(client):
    made = create(client, phone=PHONE, return_url=SHOP + "/done#step=2&proof=forged")
    assert text_in(client, PHONE, made["body"]) == 200
    fragment = urlsplit(continue_href(page_of(client, made), "verified")).fragment
    pairs = parse_qsl(fragment)
    assert pairs[0] == ("step", "2")
    assert [k for k, _ in pairs] == ["step", "proof"]  # the integrator's own proof= replaced
    check(dict(pairs)["proof"], jwks_of(client))


def test_another_audience_refuses_the_pages_proof(client):
    made = create(client, phone=PHONE, return_url=SHOP + "/done")
    assert text_in(client, PHONE, made["body"]) == 200
    proof = parse_qs(urlsplit(continue_href(page_of(client, made), "verified")).fragment)["proof"]

    with pytest.raises(jwt.InvalidAudienceError):
        check(proof[0], jwks_of(client), audience="another-app")


@pytest.mark.parametrize("state", ["failed", "expired", "cancelled", "pending"])
def test_a_page_that_is_not_verified_carries_no_proof(client, clock, state):
    made = create(client, phone=PHONE, return_url=SHOP + "/done#top")
    if state == "cancelled":
        client.post(f"/api/v1/challenges/{made['id']}/cancel", headers=AUTH)
    elif state == "failed":
        for _ in range(5):
            text_in(client, "+33699999999", made["body"])
    elif state == "expired":
        clock.advance(601)
    html = page_of(client, made)
    assert f'data-status="{state}"' in html
    assert "proof" not in html
    assert ".ey" not in html  # no JWS anywhere (its header and claims start with eyJ)
    for final in ("verified", "failed", "expired", "cancelled"):
        assert urlsplit(continue_href(html, final)).fragment == "top"


def test_the_proof_is_in_no_logged_url_and_no_status_answer(client, caplog):
    caplog.set_level(logging.DEBUG)
    made = create(client, phone=PHONE, return_url=SHOP + "/done")
    assert text_in(client, PHONE, made["body"]) == 200
    html = page_of(client, made)
    proof = parse_qs(urlsplit(continue_href(html, "verified")).fragment)["proof"][0]
    signature = proof.rsplit(".", 1)[1]
    status = client.get(f"/api/v1/status/{made['token']}")
    assert status.status_code == 200 and status.json["status"] == "verified"
    assert "proof" not in status.json
    assert signature not in status.get_data(as_text=True)
    logged = [r for r in caplog.records if r.name == "app.access"]
    assert any(getattr(r, "path", "").startswith("/v/") for r in logged)
    for record in caplog.records:
        assert signature not in record.getMessage()
        assert all(signature not in str(v) for v in vars(record).values())
