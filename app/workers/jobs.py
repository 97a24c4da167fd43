"""Periodic jobs inside a server process: expire due challenges, purge old rows, deliver
callbacks.

One small scheduler thread per process runs every job at its interval. Several processes (or
instances) running the same job is harmless: expiry is a conditional update, so each challenge
is expired and announced once, and purging deletes what is there. The thread uses only
`threading`, so under gevent workers (which patch threading) it is a greenlet, and under
gthread workers a plain thread; `stop()` wakes it and waits for it to finish its current job.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask

from app.runtime import EXTENSION, Runtime
from app.usecases import challenges
from app.workers.delivery import Deliverer, deliverer_for
from app.workers.scheduler import Job, Scheduler

log = logging.getLogger(__name__)
JOBS = "reverse_otp_jobs"


def for_app(app: Flask) -> Scheduler:
    """Return the scheduler of an app's periodic jobs, as its settings describe them."""
    rt: Runtime = app.extensions[EXTENSION]
    delivering = [delivery(rt)] if rt.settings.callbacks.worker else []
    return Scheduler(expiry(rt) + purge(rt) + delivering)


def for_callbacks(rt: Runtime) -> Scheduler:
    """Return the scheduler of `reverse-otp callbacks run`: expiry and callback delivery."""
    return Scheduler([*expiry(rt), delivery(rt)])


def expiry(rt: Runtime) -> list[Job]:
    """The expiry sweep: it also makes the challenge.expired callbacks of forgotten challenges."""
    section = rt.settings.expiry
    if section.sweep_seconds <= 0:
        return []
    return [Job("expire", section.sweep_seconds, lambda: expire(rt, section.batch_size))]


def purge(rt: Runtime) -> list[Job]:
    """The retention purge, when turned on."""
    section = rt.settings.retention
    if section.purge_hours <= 0:
        return []
    max_age = timedelta(days=section.max_age_days)
    return [
        Job(
            "purge",
            section.purge_hours * 3600,
            lambda: challenges.purge_old(rt.ctx, max_age, section.batch_size),
        )
    ]


def delivery(rt: Runtime) -> Job:
    """Callback delivery from the outbox, every `[callbacks] poll_interval` seconds."""
    return delivery_job(deliverer_for(rt.settings, rt.ctx), rt.settings.callbacks.poll_interval)


def delivery_job(deliverer: Deliverer, interval: float) -> Job:
    """A job starting due deliveries in the deliverer's lanes; stopping waits for them."""
    return Job(
        "callbacks",
        interval,
        lambda: deliver(deliverer),
        close=lambda: deliverer.lanes.wait_idle(deliverer.settings.attempt_deadline),
    )


def expire(rt: Runtime, batch_size: int, max_batches: int = 20) -> None:
    """Expire due challenges in bounded batches, at most `max_batches` per run."""
    for _ in range(max_batches):
        if challenges.expire_due(rt.ctx, batch_size) < batch_size:
            return


def deliver(deliverer: Deliverer, max_passes: int = 20) -> None:
    """Start due deliveries while some start (lanes free), at most `max_passes` claims per run.

    Deliveries run in the deliverer's lanes, so a slow receiver holds its own app's lanes and
    not the scheduler.
    """
    for _ in range(max_passes):
        if not deliverer.pump():
            return


def start(app: Flask) -> Scheduler:
    """Start an app's jobs in this process and keep the scheduler on the app."""
    scheduler = for_app(app)
    app.extensions[JOBS] = scheduler
    scheduler.start()
    return scheduler


def stop(app: Flask) -> None:
    """Stop the jobs `start` began for an app, if any."""
    scheduler: Scheduler | None = app.extensions.get(JOBS)
    if scheduler is not None:
        scheduler.stop()
