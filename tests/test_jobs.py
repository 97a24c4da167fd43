"""Periodic jobs: the scheduler, the expiry sweep and the retention purge."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from app.cli.server import Server, options
from app.domain.challenges import InboundMessage, Status
from app.events.base import StatusChanged
from app.store.tables import challenges, inbound_messages
from app.usecases import challenges as challenge_cases
from app.usecases import inbound as inbound_cases
from app.workers import jobs
from app.workers.scheduler import Job, Scheduler
from tests.conftest import NUMBER, runtime

DAY = 24 * 3600


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_scheduler_runs_each_job_when_due_and_says_how_long_to_wait():
    ticks, runs = Ticks(), []
    scheduler = Scheduler(
        [
            Job("fast", 1.0, lambda: runs.append("fast")),
            Job("slow", 10.0, lambda: runs.append("slow")),
        ],
        monotonic=ticks,
    )

    assert scheduler.run_pending() == 1.0
    ticks.now += 1.0
    assert scheduler.run_pending() == 1.0
    ticks.now += 9.0
    scheduler.run_pending()

    assert runs == ["fast", "slow", "fast", "fast", "slow"]


def test_a_failing_job_is_logged_and_runs_again(caplog):
    ticks, calls = Ticks(), []

    def broken() -> None:
        calls.append(1)
        raise RuntimeError("database away")

    scheduler = Scheduler([Job("broken", 1.0, broken)], monotonic=ticks)
    with caplog.at_level(logging.ERROR, logger="app.workers.jobs"):
        scheduler.run_pending()
        ticks.now += 1.0
        scheduler.run_pending()

    assert len(calls) == 2
    assert "job broken failed" in caplog.text


def test_scheduler_thread_runs_jobs_and_stops_when_asked():
    ran = threading.Event()
    scheduler = Scheduler([Job("signal", 3600.0, ran.set)])

    scheduler.start()
    assert ran.wait(10)
    scheduler.stop(timeout=10)

    assert not scheduler.running


def subscribe(ctx, challenge_id):
    seen: list[StatusChanged] = []
    ctx.bus.subscribe(challenge_id, seen.append)
    return seen


# What the sweep itself announces, counted on a bus without the database poller: the poller
# may bring a final status a second time (app/events/poller.py; a stream sends it once), at
# whatever moment its thread runs, which made these counts depend on timing.
SWEEP_ONLY = pytest.mark.parametrize("settings_overrides", [{"events": {"poll_interval": 0}}])


@SWEEP_ONLY
def test_sweep_expires_due_challenges_and_announces_them(app, ctx, clock):
    due = challenge_cases.create_challenge(ctx, None, 60, {}).challenge
    later = challenge_cases.create_challenge(ctx, None, 600, {}).challenge
    seen = subscribe(ctx, due.id)
    clock.advance(61)

    jobs.for_app(app).run_pending()

    assert ctx.store.challenge(due.id).status is Status.EXPIRED
    assert ctx.store.challenge(later.id).status is Status.PENDING
    assert seen == [StatusChanged(due.id, "expired")]


@SWEEP_ONLY
def test_sweeps_in_several_processes_announce_an_expiry_once(app, ctx, clock):
    due = challenge_cases.create_challenge(ctx, None, 60, {}).challenge
    seen = subscribe(ctx, due.id)
    clock.advance(61)

    for scheduler in (jobs.for_app(app), jobs.for_app(app)):
        scheduler.run_pending()

    assert seen == [StatusChanged(due.id, "expired")]


def test_sweep_works_through_a_backlog_in_batches(app, ctx, clock):
    for _ in range(7):
        challenge_cases.create_challenge(ctx, None, 60, {})
    clock.advance(61)

    jobs.expire(runtime(app), batch_size=3)

    assert ctx.store.due_expiries(clock.now(), 100) == []


def count(ctx, table) -> int:
    with ctx.store.reader.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def inbound(ctx, n: int) -> None:
    message = InboundMessage(
        provider="simulator",
        message_id=f"old-{n}",
        sender="+14155552671",
        to=NUMBER,
        text="hello",
        sender_e164="+14155552671",
        raw={},
    )
    inbound_cases.record_inbound(ctx, message)


def test_purge_deletes_rows_older_than_the_age_in_batches(ctx, clock):
    for n in range(5):
        challenge_cases.create_challenge(ctx, None, 60, {})
        inbound(ctx, n)
    clock.advance(31 * DAY)
    recent = challenge_cases.create_challenge(ctx, None, 60, {}).challenge
    inbound(ctx, 99)

    deleted = challenge_cases.purge_old(ctx, timedelta(days=30), batch_size=2)

    assert deleted == 10
    assert count(ctx, challenges) == 1 and count(ctx, inbound_messages) == 1
    assert ctx.store.challenge(recent.id) is not None


def test_purge_keeps_rows_younger_than_the_age(ctx, clock):
    challenge_cases.create_challenge(ctx, None, 60, {})
    clock.advance(29 * DAY)

    assert challenge_cases.purge_old(ctx, timedelta(days=30)) == 0
    assert count(ctx, challenges) == 1


def test_purge_command_uses_the_retention_settings(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REVERSE_OTP_RETENTION__MAX_AGE_DAYS", "7")
    monkeypatch.setenv("REVERSE_OTP_DATABASE__URL", f"sqlite:///{tmp_path / 'purge.db'}")

    result = CliRunner().invoke(jobs_cli(), ["purge"])

    assert result.exit_code == 0, result.output
    assert "deleted 0 rows older than 7 days" in result.output


def jobs_cli():
    from app.cli import main

    return main


def test_served_app_runs_its_jobs_until_the_worker_exits(settings):
    from app import create_app

    server = Server(lambda: create_app(settings), options("127.0.0.1", 0, 1))
    served = server.load()
    scheduler = served.extensions[jobs.JOBS]
    assert scheduler.running

    class Worker:
        wsgi = served

    options("127.0.0.1", 0, 1)["worker_exit"](None, Worker())
    assert not scheduler.running
    runtime(served).ctx.store.dispose()


def test_purge_deletes_old_message_parts_and_their_groups(ctx, clock):
    from sqlalchemy import insert

    from app.store.tables import message_part_groups, message_parts

    def part(group: str, n: int) -> None:
        with ctx.store.writer.begin() as conn:
            conn.execute(
                insert(message_part_groups).values(
                    provider="simulator", group_key=group, total=1, created_at=clock.now()
                )
            )
            conn.execute(
                insert(message_parts).values(
                    provider="simulator",
                    group_key=group,
                    part=1,
                    message_id=f"part-{n}",
                    text="VERIFY",
                    received_at=clock.now(),
                )
            )

    part("old-a", 1)
    part("old-b", 2)
    clock.advance(31 * DAY)
    part("new", 3)

    assert challenge_cases.purge_old(ctx, timedelta(days=30), batch_size=1) == 4
    assert count(ctx, message_parts) == 1 and count(ctx, message_part_groups) == 1


def test_purge_deletes_ended_callbacks_and_old_limit_counters(ctx, clock):
    from sqlalchemy import insert

    from app.store.tables import callback_outbox, limit_counters

    def callback(n: int, ended: bool) -> None:
        with ctx.store.writer.begin() as conn:
            conn.execute(
                insert(callback_outbox).values(
                    event_id=f"evt_{n}",
                    app_id="default",
                    challenge_id=f"ch_{n}",
                    event_type="challenge.verified",
                    url="https://example.com/hook",
                    body=b"{}",
                    state="delivered" if ended else "pending",
                    attempts=1,
                    created_at=clock.now(),
                    next_attempt_at=clock.now(),
                    ended_at=clock.now() if ended else None,
                )
            )

    def counter(key: str) -> None:
        with ctx.store.writer.begin() as conn:
            conn.execute(insert(limit_counters).values(key=key, count=3, reset_at=clock.now()))

    callback(1, ended=True)
    callback(2, ended=False)  # still due: kept, whatever its age
    counter("old")
    clock.advance(31 * DAY)
    callback(3, ended=True)
    counter("new")

    assert challenge_cases.purge_old(ctx, timedelta(days=30)) == 2
    assert count(ctx, callback_outbox) == 2 and count(ctx, limit_counters) == 1
