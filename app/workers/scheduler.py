"""One small scheduler thread per process runs every job at its interval.

The thread uses only `threading`, so under gevent workers (which patch
threading) it is a greenlet, and under gthread workers a plain thread; `stop()`
wakes it and waits for it to finish its current job.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class Job:
    """A function to run every `interval` seconds."""

    name: str
    interval: float
    run: Callable[[], object]
    due: float = field(default=0.0)
    # Called once the scheduler has stopped (callback delivery waits for its lanes).
    close: Callable[[], object] | None = None


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
        for job in self.jobs:
            if job.close is not None:
                job.close()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run(self) -> None:
        """Run the jobs in this thread until `stop()` is called (from a signal handler)."""
        self._loop()

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
