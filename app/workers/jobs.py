"""Periodic jobs inside a server process: expire due challenges, purge old rows.

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
from app.workers.scheduler import Job, Scheduler

log = logging.getLogger(__name__)
JOBS = "reverse_otp_jobs"


def for_app(app: Flask) -> Scheduler:
    """Return the scheduler of an app's periodic jobs, as its settings describe them."""
    rt: Runtime = app.extensions[EXTENSION]
    expiry, retention = rt.settings.expiry, rt.settings.retention
    jobs = []
    if expiry.sweep_seconds > 0:
        jobs.append(Job("expire", expiry.sweep_seconds, lambda: _expire(rt, expiry.batch_size)))
    if retention.purge_hours > 0:
        max_age = timedelta(days=retention.max_age_days)
        jobs.append(
            Job(
                "purge",
                retention.purge_hours * 3600,
                lambda: challenges.purge_old(rt.ctx, max_age, retention.batch_size),
            )
        )
    return Scheduler(jobs)


def _expire(rt: Runtime, batch_size: int, max_batches: int = 20) -> None:
    """Expire due challenges in bounded batches, at most `max_batches` per run."""
    for _ in range(max_batches):
        if challenges.expire_due(rt.ctx, batch_size) < batch_size:
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
