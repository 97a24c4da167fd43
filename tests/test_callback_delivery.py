"""Callbacks: recorded with the status change, delivered at least once, retried, abandoned."""

import itertools
import json
import threading
from datetime import timedelta

import pytest
import requests

from app.domain.challenges import InboundMessage
from app.store.base import Attempt
from app.store.sql import SqlTx
from app.usecases import challenges, inbound
from app.workers import jobs
from tests.callback_helpers import (
    HOOK,
    HOOK_SECRET,
    PHONE,
    SIMULATOR_ONLY,
    create,
    outbox,
    text_in,
    worker,
)
from tests.conftest import AUTH, runtime


@pytest.fixture
def settings_overrides():
    return {"callbacks": {"url": HOOK, "secret": HOOK_SECRET}, "numbers": SIMULATOR_ONLY}


def verify(client, phone=PHONE):
    made = create(client, phone=phone)
    assert text_in(client, phone, made["body"]) == 200
    return made


def test_verification_records_a_callback_with_the_masked_number(app, client):
    made = verify(client)
    [row] = outbox(app, made["id"])
    body = json.loads(row["body"])
    assert row["event_type"] == "challenge.verified"
    assert row["state"] == "pending"
    assert body["id"] == row["event_id"]
    assert body["data"]["id"] == made["id"]
    assert body["data"]["status"] == "verified"
    assert body["data"]["verified_phone"] == "+33 6** *** *78"


def test_cancel_expiry_and_failure_each_record_their_event(app, client, clock):
    cancelled = create(client)
    client.post(f"/api/v1/challenges/{cancelled['id']}/cancel", headers=AUTH)
    failed = create(client, phone=PHONE)
    for _ in range(5):
        text_in(client, "+33698765432", failed["body"])
    expired = create(client, ttl=60)
    clock.advance(61)
    client.get(f"/api/v1/challenges/{expired['id']}", headers=AUTH)
    kinds = {r["challenge_id"]: r["event_type"] for r in outbox(app)}
    assert kinds == {
        cancelled["id"]: "challenge.cancelled",
        failed["id"]: "challenge.failed",
        expired["id"]: "challenge.expired",
    }


def test_a_status_change_and_its_callback_roll_back_together(app, client, ctx, monkeypatch):
    made = create(client, phone=PHONE)

    def broken(self, event):
        raise RuntimeError("disk full")

    monkeypatch.setattr(SqlTx, "add_callback", broken)
    with pytest.raises(RuntimeError):
        inbound.record_inbound(ctx, _message(made))
    assert challenges.get_challenge(ctx, made["id"]).status.value == "pending"
    assert outbox(app) == []


def _message(made):
    return InboundMessage("simulator", "m-1", PHONE, made["to"], made["body"], PHONE)


def test_delivers_the_stored_body_with_standard_webhooks_headers(app, client, requests_mock):
    made = verify(client)
    hook = requests_mock.post(HOOK, status_code=200)
    assert worker(app).run_once() == 1
    [row] = outbox(app, made["id"])
    sent = hook.last_request
    assert row["state"] == "delivered"
    assert sent.body == row["body"]
    assert sent.headers["webhook-id"] == row["event_id"]
    assert sent.headers["webhook-signature"].startswith("v1,")
    assert sent.headers["Content-Type"] == "application/json"


def test_a_receiver_failing_three_times_gets_the_event_on_the_fourth_try(
    app, client, clock, requests_mock
):
    made = verify(client)
    hook = requests_mock.post(HOOK, [{"status_code": 500}] * 3 + [{"status_code": 200}])
    deliverer = worker(app)
    for tries in (1, 2, 3):
        assert deliverer.run_once() == 1
        assert hook.call_count == tries
        assert deliverer.run_once() == 0  # backing off: nothing due yet
        clock.advance(60)
    assert deliverer.run_once() == 1
    [row] = outbox(app, made["id"])
    assert (row["state"], row["attempts"], hook.call_count) == ("delivered", 4, 4)
    assert len({r.headers["webhook-id"] for r in hook.request_history}) == 1


def test_backoff_grows_between_attempts(app, client, clock, requests_mock):
    made = verify(client)
    requests_mock.post(HOOK, status_code=503)
    deliverer = worker(app)
    waits = []
    for _ in range(5):
        deliverer.run_once()
        [row] = outbox(app, made["id"])
        waits.append((row["next_attempt_at"] - clock.now()).total_seconds())
        clock.advance(waits[-1])
    assert all(later > earlier for earlier, later in itertools.pairwise(waits))


def test_a_client_error_is_not_retried(app, client, clock, requests_mock):
    made = verify(client)
    hook = requests_mock.post(HOOK, status_code=404)
    deliverer = worker(app)
    deliverer.run_once()
    clock.advance(3600)
    deliverer.run_once()
    [row] = outbox(app, made["id"])
    assert (row["state"], row["last_status"], hook.call_count) == ("abandoned", 404, 1)


def test_too_many_requests_is_retried_after_its_retry_after(app, client, clock, requests_mock):
    made = verify(client)
    requests_mock.post(HOOK, status_code=429, headers={"Retry-After": "120"})
    worker(app).run_once()
    [row] = outbox(app, made["id"])
    assert row["state"] == "pending"
    assert (row["next_attempt_at"] - clock.now()).total_seconds() >= 120


def test_a_timeout_is_retried(app, client, requests_mock):
    made = verify(client)
    requests_mock.post(HOOK, exc=requests.exceptions.ReadTimeout)
    worker(app).run_once()
    [row] = outbox(app, made["id"])
    assert (row["state"], row["last_error"]) == ("pending", "ReadTimeout")


def test_gives_up_after_a_day_of_failures(app, client, clock, requests_mock):
    made = verify(client)
    hook = requests_mock.post(HOOK, status_code=500)
    deliverer = worker(app)
    for _ in range(200):
        deliverer.run_once()
        if outbox(app, made["id"])[0]["state"] != "pending":
            break
        clock.advance(3 * 3600)
    [row] = outbox(app, made["id"])
    assert row["state"] == "abandoned"
    assert (row["ended_at"] - row["created_at"]).total_seconds() <= 24 * 3600
    assert hook.call_count == row["attempts"] > 8


def test_redirects_are_not_followed(app, client, requests_mock):
    made = verify(client)
    requests_mock.post(HOOK, status_code=302, headers={"Location": "http://10.0.0.1/steal"})
    other = requests_mock.post("http://10.0.0.1/steal", status_code=200)
    worker(app).run_once()
    [row] = outbox(app, made["id"])
    assert (row["state"], row["last_status"], other.call_count) == ("pending", 302, 0)


def test_a_private_destination_is_refused_without_a_request(app, client, requests_mock):
    made = verify(client)
    hook = requests_mock.post(HOOK, status_code=200)
    worker(app, "93.184.216.34", "169.254.169.254").run_once()
    [row] = outbox(app, made["id"])
    assert (row["state"], hook.call_count) == ("abandoned", 0)
    assert "non-public" in row["last_error"]


def test_a_challenge_can_name_its_own_callback_url(app, client, requests_mock):
    own = "https://elsewhere.example.org/hook"
    made = create(client, phone=PHONE, callback_url=own)
    text_in(client, PHONE, made["body"])
    hook = requests_mock.post(own, status_code=204)
    worker(app).run_once()
    assert hook.call_count == 1
    assert outbox(app, made["id"])[0]["url"] == own


def test_refuses_a_malformed_callback_url(client):
    response = client.post(
        "/api/v1/challenges", json={"callback_url": "ftp://x.example/"}, headers=AUTH
    )
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_callback_url"


def test_a_claimed_callback_is_not_claimed_again_until_its_lease_runs_out(app, client, clock):
    verify(client)
    store = worker(app).store
    later = clock.now()
    first = store.claim_callbacks(later, later + timedelta(seconds=60), "a", 10)
    second = store.claim_callbacks(later, later + timedelta(seconds=60), "b", 10)
    clock.advance(61)
    third = store.claim_callbacks(clock.now(), clock.now() + timedelta(seconds=60), "c", 10)
    assert (len(first), len(second), len(third)) == (1, 0, 1)


def test_a_worker_that_lost_its_lease_records_nothing(app, client, clock, requests_mock):
    made = verify(client)
    store = worker(app).store
    now = clock.now()
    [stale] = store.claim_callbacks(now, now + timedelta(seconds=60), "old", 10)
    clock.advance(61)
    store.claim_callbacks(clock.now(), clock.now() + timedelta(seconds=60), "new", 10)
    assert not store.finish_callback(stale, clock.now(), Attempt("delivered", 200, None))
    assert outbox(app, made["id"])[0]["state"] == "pending"


def test_concurrent_workers_never_claim_the_same_callback(app, ctx, clock):
    for _ in range(40):
        made = challenges.create_challenge(ctx, None, None, {})
        challenges.cancel_challenge(ctx, made.challenge.id)
    store = worker(app).store
    now = clock.now()
    claimed: list[list[int]] = [[] for _ in range(4)]

    def claim(slot: int) -> None:
        while batch := store.claim_callbacks(now, now + timedelta(seconds=60), f"w{slot}", 3):
            claimed[slot] += [d.id for d in batch]

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [i for slot in claimed for i in slot]
    assert sorted(ids) == sorted(r["id"] for r in outbox(app))
    assert len(ids) == len(set(ids)) == 40


def test_a_worker_hands_back_what_one_apps_lanes_cannot_take(app, client, requests_mock):
    for _ in range(3):
        verify(client)
    deliverer = worker(app)  # callbacks.per_app = 2 by default
    answering = threading.Event()

    def held(request, context):
        answering.wait(5)  # both lanes stay busy until released
        return ""

    hook = requests_mock.post(HOOK, status_code=200, text=held)
    assert deliverer.pump() == 2
    assert sorted(r["lease"] is None for r in outbox(app)) == [False, False, True]
    answering.set()
    assert deliverer.lanes.wait_idle(5)
    assert sorted(r["state"] for r in outbox(app)) == ["delivered", "delivered", "pending"]
    assert deliverer.run_once() == 1
    assert hook.call_count == 3


def test_a_callback_whose_lease_ran_short_is_handed_back_untried(app, client, clock, requests_mock):
    verify(client)
    deliverer = worker(app)
    hook = requests_mock.post(HOOK, status_code=200)
    now = clock.now()
    [claimed] = deliverer.store.claim_callbacks(now, now + timedelta(seconds=60), "w", 10)
    clock.advance(60 - deliverer.settings.attempt_deadline)
    assert deliverer.deliver_leased(claimed, now + timedelta(seconds=60)) is None
    [row] = outbox(app)
    assert (row["state"], row["lease"], row["attempts"], hook.call_count) == ("pending", None, 0, 0)


def test_the_expiry_job_ends_forgotten_challenges_and_the_worker_announces_them(
    app, client, clock, requests_mock
):
    made = create(client, ttl=60)
    hook = requests_mock.post(HOOK, status_code=200)
    clock.advance(61)
    jobs.expire(runtime(app), 100)
    worker(app).run_once()
    sent = json.loads(hook.last_request.body)
    assert (sent["type"], sent["data"]["id"]) == ("challenge.expired", made["id"])


def test_deliveries_and_retries_are_counted_in_the_metrics(app, client, clock, requests_mock):
    from tests.conftest import runtime

    verify(client)
    requests_mock.post(HOOK, [{"status_code": 500}] * 2 + [{"status_code": 200}])
    deliverer = worker(app)
    for _ in range(3):
        deliverer.run_once()
        clock.advance(60)
    registry = runtime(app).ctx.observer.registry
    count = registry.get_sample_value
    assert count("reverse_otp_callback_deliveries_total", {"outcome": "failed"}) == 2
    assert count("reverse_otp_callback_deliveries_total", {"outcome": "delivered"}) == 1
    assert count("reverse_otp_callback_retries_total") == 2
