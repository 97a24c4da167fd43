"""The conversion funnel: the page's beacon endpoint, the steps counted, the dashboard."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from app.domain.funnel import Reached, funnel
from tests.conftest import runtime
from tests.sms import create_on_simulator, text_in

KEY = "admin-key-" + "0123456789abcdefghijkl"
BEARER = {"Authorization": f"Bearer {KEY}"}
PHONE = "+33612345678"


@pytest.fixture
def settings_overrides():
    return {"admin": {"key": KEY}, "page": {"beacon_per_minute": 8}}


def token_of(created):
    return created["verify_url"].rsplit("/", 1)[1]


def beacon(client, token, body, content_type="application/json"):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(f"/v/{token}/beacon", data=data, content_type=content_type)


def challenges_made(app):
    from app.store.tables import challenges

    with runtime(app).ctx.store.reader.connect() as conn:
        return conn.execute(select(func.count()).select_from(challenges)).scalar_one()


def recorded(app, challenge_id=None):
    from app.store.tables import page_events

    store = runtime(app).ctx.store
    query = select(func.count()).select_from(page_events)
    if challenge_id:
        query = query.where(page_events.c.challenge_id == challenge_id)
    with store.reader.connect() as conn:
        return conn.execute(query).scalar_one()


def test_a_page_event_is_recorded_once_and_a_replay_is_refused(client, app):
    created = create_on_simulator(client, phone=PHONE)
    token = token_of(created)
    first = beacon(client, token, {"event": "page_opened"})
    assert first.status_code == 204
    again = beacon(client, token, {"event": "page_opened"})
    assert again.status_code == 409
    assert again.json["error"]["code"] == "already_recorded"
    assert recorded(app, created["id"]) == 1


def test_sendbeacon_text_plain_bodies_are_read(client, app):
    token = token_of(create_on_simulator(client))
    done = beacon(client, token, '{"event": "qr_shown"}', content_type="text/plain;charset=UTF-8")
    assert done.status_code == 204


@pytest.mark.parametrize("token", ["not-a-token", "x" * 129, "A" * 43])
def test_a_bad_token_is_404_json_and_records_nothing(client, app, token):
    create_on_simulator(client)
    done = beacon(client, token, {"event": "page_opened"})
    assert done.status_code == 404
    assert done.json["error"]["code"] == "not_found"
    assert recorded(app) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"event": "page_opened'; DROP TABLE page_events; --"},
        {"event": "verified"},  # a step only the server decides
        {"event": "PAGE_OPENED"},
        {"event": ""},
        {"event": "x" * 5000},
    ],
)
def test_junk_event_names_are_400_json(client, app, body):
    token = token_of(create_on_simulator(client))
    done = beacon(client, token, body)
    assert done.status_code == 400
    assert done.json["error"]["code"] in ("invalid_event", "invalid_body")
    assert recorded(app) == 0


@pytest.mark.parametrize(
    "body",
    ["not json", "[]", '{"event": 1}', '{"event": "page_opened", "extra": 1}', "", "null"],
)
def test_malformed_bodies_are_400_json(client, app, body):
    token = token_of(create_on_simulator(client))
    done = beacon(client, token, body)
    assert done.status_code == 400
    assert done.json["error"]["code"] == "invalid_body"


def test_an_ended_challenge_records_nothing(client, app):
    created = create_on_simulator(client, phone=PHONE)
    assert text_in(client, created["body"]).status_code == 200
    done = beacon(client, token_of(created), {"event": "send_tapped"})
    assert done.status_code == 409
    assert done.json["error"]["code"] == "not_pending"
    assert recorded(app) == 0


def test_reports_are_rate_limited_per_address(client, app):
    token = token_of(create_on_simulator(client))
    answers = [beacon(client, token, {"event": "page_opened"}).status_code for _ in range(8)]
    assert answers == [204] + [409] * 7
    over = beacon(client, token, {"event": "qr_shown"})
    assert over.status_code == 429
    assert over.json["error"]["code"] == "rate_limited_beacon"
    assert int(over.headers["Retry-After"]) >= 1
    other = client.post(
        f"/v/{token}/beacon", json={"event": "qr_shown"}, environ_base={"REMOTE_ADDR": "10.9.9.9"}
    )
    assert other.status_code == 204  # another address has its own budget


def test_the_funnel_counts_each_step_and_the_drop():
    reached = [
        Reached(frozenset(), False, False),
        Reached(frozenset({"page_opened"}), False, False),
        Reached(frozenset({"page_opened", "qr_shown"}), True, False),
        Reached(frozenset({"page_opened", "send_tapped", "qr_shown"}), True, True),
    ]
    steps = {s.name: s for s in funnel(reached)}
    assert [steps[n].count for n in ("created", "opened", "sent", "received", "verified")] == [
        4, 3, 2, 2, 1
    ]  # fmt: skip
    assert steps["opened"].drop == 1 and steps["verified"].drop == 1
    assert steps["sent"].share == 0.5
    assert funnel([])[0].share is None


def step_counts(html, app="default"):
    row = re.search(rf'<tr data-app="{app}">(.*?)</tr>', html, re.S)
    assert row, html
    cells = re.findall(r'<td data-step="(\w+)">(\d+)', row.group(1))
    return {name: int(n) for name, n in cells}


def test_the_dashboard_shows_the_funnel_per_app(client, app):
    opened = create_on_simulator(client, phone=PHONE)
    verified = create_on_simulator(client, phone="+33612345679")
    create_on_simulator(client, phone="+33612345670")  # never opened
    for event in ("page_opened", "send_tapped"):
        assert beacon(client, token_of(verified), {"event": event}).status_code == 204
    assert beacon(client, token_of(opened), {"event": "page_opened"}).status_code == 204
    assert text_in(client, verified["body"], sender="+33612345679").status_code == 200
    html = client.get("/admin", headers=BEARER).get_data(as_text=True)
    made = challenges_made(app)  # the simulator's number takes turns with another: 3 or more
    assert made >= 3
    counts = {"created": made, "opened": 2, "sent": 1, "received": 1, "verified": 1}
    assert step_counts(html) == counts
    assert f"lost {made - 2}" in html  # created, not opened


def test_the_funnel_follows_the_window(client, app, clock):
    token = token_of(create_on_simulator(client))
    assert beacon(client, token, {"event": "page_opened"}).status_code == 204
    clock.advance(2 * 3600)
    html = client.get("/admin?window=1h", headers=BEARER).get_data(as_text=True)
    assert "No challenges in this window." in html
    html = client.get("/admin?window=24h", headers=BEARER).get_data(as_text=True)
    assert step_counts(html)["opened"] == 1


def test_search_by_challenge_id_finds_it_and_its_steps(client, app):
    created = create_on_simulator(client, phone=PHONE)
    create_on_simulator(client, phone="+33612345679")
    assert beacon(client, token_of(created), {"event": "page_opened"}).status_code == 204
    html = client.get(f"/admin?q={created['id'][:12]}", headers=BEARER).get_data(as_text=True)
    found = re.search(r'<div class="scroll" id="found">(.*?)</div>', html, re.S).group(1)
    assert created["id"] in found
    assert found.count("<code>") == 1
    assert "created, opened" in found


@pytest.mark.parametrize("query", ["%", "ch_%", "_", "'; --", "<script>"])
def test_search_treats_wildcards_and_markup_as_text(client, app, query):
    create_on_simulator(client)
    html = client.get("/admin", query_string={"q": query}, headers=BEARER).get_data(as_text=True)
    found = re.search(r'<div class="scroll" id="found">(.*?)</div>', html, re.S).group(1)
    assert "<code>" not in found
    assert "<script>" not in html
