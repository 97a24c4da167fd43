"""Periodic jobs inside a server process: expire due challenges, purge old rows.

One small scheduler thread per process runs every job at its interval. Several processes (or
instances) running the same job is harmless: expiry is a conditional update, so each challenge
is expired and announced once, and purging deletes what is there. The thread uses only
`threading`, so under gevent workers (which patch threading) it is a greenlet, and under
gthread workers a plain thread; `stop()` wakes it and waits for it to finish its current job.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from flask import Flask

from app.runtime import EXTENSION, Runtime
from app.usecases import challenges

log = logging.getLogger(__name__)
JOBS = "reverse_otp_jobs"


@dataclass
class Job:
    """A function to run every `interval` seconds."""

    name: str
    interval: float
    run: Callable[[], object]
    due: float = field(default=0.0)


class Scheduler:
    """Runs jobs on one background thread until stopped."""

    def __init__(self, jobs: list[Job], monotonic: Callable[[], float] = time.monotonic) -> None:
        self.jobs = jobs
        self._monotonic = monotonic
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def run_pending(self) -> float:
        """Run every job that is due; return the seconds until the next one is."""
        now = self._monotonic()
        for job in self.jobs:
            if job.due <= now:
                self._run(job)
                job.due = now + job.interval
        return max(0.0, min(job.due for job in self.jobs) - self._monotonic())

    def start(self) -> None:
        """Start the background thread (once); a scheduler without jobs starts nothing."""
        if self._thread is None and self.jobs:
            self._thread = threading.Thread(target=self._loop, name="reverse-otp-jobs", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to stop and wait for it."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._stopping.wait(self.run_pending())

    @staticmethod
    def _run(job: Job) -> None:
        try:
            job.run()
        except Exception:
            # A failing job (database away) must not end the thread; it runs again next time.
            log.exception("job %s failed", job.name)


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
