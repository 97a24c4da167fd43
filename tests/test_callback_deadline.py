"""A callback attempt ends by a total deadline, and one slow app delays no other app.

Real receivers on 127.0.0.1: a slow one that drips its answer's status line one byte at a
time (each byte well within the read timeout, so only a total deadline can stop it) and a
fast one.
"""

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from app import outbound
from app.config.schema import Callbacks
from app.usecases import apps
from app.workers import jobs
from app.workers.delivery import deliverer_for as build_deliverer
from app.workers.scheduler import Scheduler
from tests.callback_helpers import HOOK, HOOK_SECRET, create, outbox
from tests.conftest import runtime
from tests.receivers import Receiver, tls_files, wait_for

CONNECT, READ = 0.5, 1.0


@pytest.fixture
def settings_overrides():
    callbacks = {
        "url": HOOK,
        "secret": HOOK_SECRET,
        "allow_private": True,
        "connect_timeout": CONNECT,
        "read_timeout": READ,
        "poll_interval": 0.05,
    }
    return {"callbacks": callbacks}


def cancelled_for(ctx, client, name, url):
    made = apps.register(ctx, name, callback_url=url)
    key = {"Authorization": f"Bearer {made.key}"}
    challenge = create(client, headers=key)
    client.post(f"/api/v1/challenges/{challenge['id']}/cancel", headers=key)
    return made.app.id


def test_a_slow_receiver_neither_outlives_the_deadline_nor_delays_another_app(
    app, client, ctx, clock
):
    with Receiver(drip=0.2, drip_for=10) as slow, Receiver() as fast:
        slow_app = cancelled_for(ctx, client, "Slow", slow.url())
        cancelled_for(ctx, client, "Fast", fast.url())  # recorded after the slow one
        deliverer = build_deliverer(runtime(app).settings, ctx)
        scheduler = Scheduler([jobs.delivery_job(deliverer, 0.05)])
        scheduler.start()
        try:
            assert wait_for(lambda: slow.dripping, 5)
            started = time.monotonic()
            assert wait_for(lambda: fast.received, 1.0), "the fast app waited for the slow one"
            assert slow.dripping == 1  # still dripping when the fast callback arrived
            assert wait_for(lambda: slow.ended, 5)
            assert slow.ended[0] - slow.received[0].at <= CONNECT + READ + 0.5
            assert time.monotonic() - started < 5
            assert wait_for(lambda: _state(app, slow_app)["attempts"] == 1, 5)
        finally:
            scheduler.stop()
    row = _state(app, slow_app)
    assert row["state"] == "pending"
    assert row["last_error"] == f"no answer within {CONNECT + READ:g} s"
    assert row["next_attempt_at"] > clock.now()  # retried later, per the retry policy
    assert [r["state"] for r in outbox(app) if r["app_id"] != slow_app] == ["delivered"]


def _state(app, app_id):
    [row] = [r for r in outbox(app) if r["app_id"] == app_id]
    return row


def test_the_attempt_deadline_comes_from_the_timeouts_and_stays_under_the_lease():
    settings = Callbacks(connect_timeout=2.0, read_timeout=5.0, lease=30.0)
    assert settings.attempt_deadline == 7.0 < settings.lease
    with pytest.raises(ValueError, match="lease"):
        Callbacks(connect_timeout=10.0, read_timeout=20.0, lease=30.0)


def test_per_app_lanes_may_not_exceed_the_total():
    with pytest.raises(ValueError, match="must not exceed"):
        Callbacks(concurrency=2, per_app=3)


def test_one_app_never_holds_more_than_its_lanes():
    from app.workers.delivery import Lanes

    lanes = Lanes(size=3, per_app=2)
    release = threading.Event()
    started = [lanes.try_start("slow", release.wait) for _ in range(3)]
    assert started == [True, True, False]
    assert lanes.full_apps() == {"slow"}
    assert lanes.try_start("fast", release.wait) is True
    assert lanes.free() == 0
    release.set()
    assert lanes.wait_idle(5)
    assert lanes.free() == 3


def test_a_dripping_https_receiver_is_cut_off_at_the_deadline(tmp_path):
    context, ca_file = tls_files(tmp_path, "hooks.slow.test")
    with Receiver(drip=0.1, drip_for=10, tls=context) as slow:
        started = time.monotonic()
        with outbound.Deadline(1.0) as deadline, pytest.raises(requests.RequestException):
            outbound.pinned_post(
                slow.url("hooks.slow.test", "https"),
                ["127.0.0.1"],
                deadline,
                timeout=(1.0, 5.0),
                data=b"{}",
                verify=ca_file,
            )
        assert deadline.expired
        assert time.monotonic() - started < 2.0


GEVENT_DRIP = """
from gevent import monkey; monkey.patch_all()
import sys, time
from app import outbound
from tests.receivers import Receiver
with Receiver(drip=0.1, drip_for=10) as slow:
    started = time.monotonic()
    with outbound.Deadline(1.0) as deadline:
        try:
            outbound.pinned_post(slow.url(), ["127.0.0.1"], deadline, timeout=(1, 5), data=b"")
        except Exception as exc:
            print(type(exc).__name__)
    print(deadline.expired, round(time.monotonic() - started, 1))
"""


def test_the_attempt_deadline_holds_under_gevent_as_in_the_server():
    done = subprocess.run(
        [sys.executable, "-c", GEVENT_DRIP],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=Path(__file__).parents[1],
    )
    assert done.returncode == 0, done.stderr
    *_, last = done.stdout.split()
    expired = done.stdout.split()[-2]
    assert expired == "True" and float(last) < 2.0, done.stdout
