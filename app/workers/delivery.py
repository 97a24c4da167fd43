"""The callback delivery worker: claim due outbox rows, sign, POST, record the outcome.

At least once: a row is marked delivered only after a 2xx answer, so a worker killed
mid-request leaves the row leased, and it is sent again once the lease runs out; receivers
drop duplicates by the webhook-id header. Failures are retried with doubling, jittered
delays until `max_age` after the event, then the row is abandoned; a 4xx answer other than
429 abandons it at once. Redirects are never followed. Runs as a job of each server
process's scheduler (app/workers/jobs.py), or alone as `reverse-otp callbacks run`.

Each attempt connects only to the addresses its destination check approved (no second DNS
lookup to rebind) and ends by `Callbacks.attempt_deadline`, shorter than the lease, however
slowly the receiver answers. Attempts run concurrently in lanes, a few per app at most, so
one app's slow receiver delays only its own callbacks.
"""

from __future__ import annotations

import logging
import random
import secrets
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

import requests

from app import outbound
from app.clock import Clock
from app.config import schema
from app.config.schema import Callbacks
from app.domain import callbacks
from app.domain.apps import DEFAULT_APP_ID, App
from app.domain.callbacks import DeliveryState, Result
from app.ops.observer import NullObserver, Observer
from app.store.base import Attempt, Delivery, OutboxStore
from app.usecases import context

log = logging.getLogger(__name__)
PENDING = DeliveryState.PENDING.value
DELIVERED = DeliveryState.DELIVERED.value
ABANDONED = DeliveryState.ABANDONED.value
# Metric outcome of an attempt by the state it leaves the callback in.
OUTCOMES = {DELIVERED: "delivered", PENDING: "failed", ABANDONED: "abandoned"}


class Lanes:
    """Runs deliveries in threads: at most `size` at once, at most `per_app` for one app.

    The bound per app is what keeps one slow receiver from holding every lane: its
    callbacks wait for its own lanes while other apps' callbacks go out.
    """

    def __init__(self, size: int, per_app: int) -> None:
        self.size = size
        self.per_app = per_app
        self._cond = threading.Condition()
        self._busy: Counter[str] = Counter()

    def free(self) -> int:
        """Return how many more deliveries may start now."""
        with self._cond:
            return self.size - self._busy.total()

    def full_apps(self) -> set[str]:
        """Return the apps whose lanes are all taken."""
        with self._cond:
            return {app for app, n in self._busy.items() if n >= self.per_app}

    def try_start(self, app_id: str, work: Callable[[], object]) -> bool:
        """Run `work` in a new thread when a lane is free for `app_id`; tell whether it runs."""
        with self._cond:
            if self._busy.total() >= self.size or self._busy[app_id] >= self.per_app:
                return False
            self._busy[app_id] += 1
        threading.Thread(
            target=self._run, args=(app_id, work), name="callback", daemon=True
        ).start()
        return True

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no delivery runs (at most `timeout` seconds); tell whether none does."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._busy.total(), timeout)

    def _run(self, app_id: str, work: Callable[[], object]) -> None:
        try:
            work()
        except Exception:
            log.exception("callback delivery failed")
        finally:
            with self._cond:
                self._busy[app_id] -= 1
                if not self._busy[app_id]:
                    del self._busy[app_id]
                self._cond.notify_all()


@dataclass
class Deliverer:
    """Delivers callbacks from the outbox; every collaborator is a parameter."""

    store: OutboxStore
    clock: Clock
    settings: Callbacks
    default_app: App
    resolver: outbound.Resolver = outbound.resolve
    random: Callable[[], float] = field(default_factory=lambda: random.SystemRandom().random)
    observer: Observer = field(default_factory=NullObserver)
    lanes: Lanes = field(init=False)

    def __post_init__(self) -> None:
        self.lanes = Lanes(self.settings.concurrency, self.settings.per_app)

    def run_once(self) -> int:
        """Deliver the due callbacks that fit in free lanes, wait for them; return how many."""
        started = self.pump()
        self.lanes.wait_idle(self.settings.lease)
        return started

    def pump(self) -> int:
        """Start delivering what fits in free lanes; return how many.

        Apps whose lanes are full are left out of the claim, and rows beyond an app's free
        lanes are handed back at once, so every other worker may claim them.
        """
        free = self.lanes.free()
        if free <= 0:
            return 0
        now = self.clock.now()
        lease_until = now + timedelta(seconds=self.settings.lease)
        batch = self.store.claim_callbacks(
            now,
            lease_until,
            secrets.token_hex(8),
            min(free, self.settings.batch),
            skip_apps=self.lanes.full_apps(),
        )
        over = [
            d
            for d in batch
            if not self.lanes.try_start(d.app_id, partial(self.deliver_leased, d, lease_until))
        ]
        if over:
            self.store.release_callbacks(over)
        return len(batch) - len(over)

    def deliver_leased(self, delivery: Delivery, lease_until: datetime) -> Attempt | None:
        """Deliver a claimed callback, or hand it back untried when its lease ran too short.

        An attempt may take `attempt_deadline`; starting one later than that before the
        lease ends could let a second worker send the same callback meanwhile.
        """
        now = self.clock.now()
        if now + timedelta(seconds=self.settings.attempt_deadline) >= lease_until:
            self.store.release_callbacks([delivery])
            return None
        return self.deliver(delivery)

    def deliver(self, delivery: Delivery) -> Attempt:
        """Try one callback once and record what came of it."""
        attempt = self.attempt(delivery)
        recorded = self.store.finish_callback(delivery, self.clock.now(), attempt)
        if recorded:
            self.observer.callback_delivery(OUTCOMES[attempt.state])
            if attempt.state == PENDING:
                self.observer.callback_retry()
        log.info(
            "callback event=%s app=%s type=%s attempt=%d state=%s status=%s error=%s%s",
            delivery.event_id,
            delivery.app_id,
            delivery.event_type,
            delivery.attempts + 1,
            attempt.state,
            attempt.status,
            attempt.error,
            "" if recorded else " (lease lost; not recorded)",
        )
        return attempt

    def attempt(self, delivery: Delivery) -> Attempt:
        """Send one callback and judge the answer; nothing is written here."""
        app = self._app(delivery.app_id)
        if app is None or app.revoked:
            return Attempt(ABANDONED, None, "app revoked")
        signing = app.signing_secrets(self.clock.now())
        if not signing:
            return Attempt(ABANDONED, None, "app has no callback secret")
        try:
            addresses = outbound.check_destination(
                delivery.url, self.settings.allow_private, self.resolver
            )
        except outbound.ForbiddenDestination as exc:
            return Attempt(ABANDONED, None, str(exc))
        except (OSError, UnicodeError) as exc:
            return self._failed(delivery, None, f"cannot resolve: {type(exc).__name__}", None)
        status, retry_after, error = self._post(delivery, signing, addresses)
        result = callbacks.classify(status)
        if result is Result.DELIVERED:
            return Attempt(DELIVERED, status, None)
        if result is Result.GIVE_UP:
            return Attempt(ABANDONED, status, f"HTTP {status}: not retried")
        return self._failed(delivery, status, error or f"HTTP {status}", retry_after)

    def _post(
        self, delivery: Delivery, signing: list[str], addresses: list[str]
    ) -> tuple[int | None, float | None, str | None]:
        """POST to the checked addresses; the whole exchange ends by the attempt deadline."""
        stamp = int(self.clock.now().timestamp())
        headers = callbacks.headers(signing, delivery.event_id, stamp, delivery.body)
        timeout = (self.settings.connect_timeout, self.settings.read_timeout)
        with outbound.Deadline(self.settings.attempt_deadline) as deadline:
            try:
                response = outbound.pinned_post(
                    delivery.url,
                    addresses,
                    deadline,
                    data=delivery.body,
                    headers=headers,
                    timeout=timeout,
                )
            except (requests.RequestException, OSError) as exc:
                if deadline.expired:
                    return None, None, f"no answer within {deadline.seconds:g} s"
                return None, None, type(exc).__name__
        return response.status_code, _seconds(response.headers.get("Retry-After")), None

    def _failed(
        self, delivery: Delivery, status: int | None, error: str, retry_after: float | None
    ) -> Attempt:
        now = self.clock.now()
        delay = callbacks.retry_delay(delivery.attempts + 1, self.random)
        if retry_after is not None:
            delay = max(delay, min(retry_after, callbacks.MAX_DELAY))
        next_at = now + timedelta(seconds=delay)
        deadline = delivery.created_at + timedelta(seconds=self.settings.max_age)
        if next_at > deadline:
            return Attempt(ABANDONED, status, f"{error}; gave up after {delivery.attempts + 1}")
        return Attempt(PENDING, status, error, next_at)

    def _app(self, app_id: str) -> App | None:
        if app_id == DEFAULT_APP_ID:
            return self.default_app
        return self.store.app(app_id)


def _seconds(value: str | None) -> float | None:
    """Read a Retry-After given in seconds (an HTTP date is ignored)."""
    if value is None or not value.strip().isdigit():
        return None
    return float(value.strip())


def deliverer_for(settings: schema.Settings, ctx: context.Context) -> Deliverer:
    """Return the callback delivery worker for the app's store and settings."""
    return Deliverer(
        ctx.store,
        ctx.clock,
        settings.callbacks,
        ctx.default_app,
        observer=ctx.observer,
    )
