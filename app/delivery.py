"""The callback delivery worker: claim due outbox rows, sign, POST, record the outcome.

At least once: a row is marked delivered only after a 2xx answer, so a worker killed
mid-request leaves the row leased, and it is sent again once the lease runs out; receivers
drop duplicates by the webhook-id header. Failures are retried with doubling, jittered
delays until `max_age` after the event, then the row is abandoned; a 4xx answer other than
429 abandons it at once. Redirects are never followed. Runs as a thread in each server
process (`start`), or alone as `reverse-otp callbacks run`.
"""

from __future__ import annotations

import logging
import random
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import requests

from app import outbound
from app.clock import Clock
from app.config import Callbacks
from app.domain import callbacks
from app.domain.apps import DEFAULT_APP_ID, App
from app.domain.callbacks import DeliveryState, Result
from app.observer import NullObserver, Observer
from app.store.base import Attempt, Delivery, OutboxStore

log = logging.getLogger(__name__)
PENDING = DeliveryState.PENDING.value
DELIVERED = DeliveryState.DELIVERED.value
ABANDONED = DeliveryState.ABANDONED.value
# Metric outcome of an attempt by the state it leaves the callback in.
OUTCOMES = {DELIVERED: "delivered", PENDING: "failed", ABANDONED: "abandoned"}


@dataclass
class Deliverer:
    """Delivers callbacks from the outbox; every collaborator is a parameter."""

    store: OutboxStore
    http: outbound.OutboundHTTP
    clock: Clock
    settings: Callbacks
    default_app: App
    resolver: outbound.Resolver = outbound.resolve
    random: Callable[[], float] = field(default_factory=lambda: random.SystemRandom().random)
    # Ends challenges whose time is up, so their challenge.expired events exist even when
    # nobody reads them; run before each pass.
    sweep: Callable[[], int] | None = None
    observer: Observer = field(default_factory=NullObserver)

    def run_once(self) -> int:
        """Expire due challenges, claim one batch of due callbacks, deliver it; return how many."""
        if self.sweep is not None:
            self.sweep()
        now = self.clock.now()
        lease_until = now + timedelta(seconds=self.settings.lease)
        batch = self.store.claim_callbacks(
            now, lease_until, secrets.token_hex(8), self.settings.batch
        )
        longest = timedelta(seconds=self.settings.connect_timeout + self.settings.read_timeout)
        for done, delivery in enumerate(batch):
            if self.clock.now() + longest >= lease_until:
                # Slow receivers used up the lease: hand the rest back rather than risk a
                # second worker sending them while we do.
                self.store.release_callbacks(batch[done:])
                return done
            self.deliver(delivery)
        return len(batch)

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
            outbound.check_destination(delivery.url, self.settings.allow_private, self.resolver)
        except outbound.ForbiddenDestination as exc:
            return Attempt(ABANDONED, None, str(exc))
        except (OSError, UnicodeError) as exc:
            return self._failed(delivery, None, f"cannot resolve: {type(exc).__name__}", None)
        status, retry_after, error = self._post(delivery, signing)
        result = callbacks.classify(status)
        if result is Result.DELIVERED:
            return Attempt(DELIVERED, status, None)
        if result is Result.GIVE_UP:
            return Attempt(ABANDONED, status, f"HTTP {status}: not retried")
        return self._failed(delivery, status, error or f"HTTP {status}", retry_after)

    def _post(
        self, delivery: Delivery, signing: list[str]
    ) -> tuple[int | None, float | None, str | None]:
        stamp = int(self.clock.now().timestamp())
        headers = callbacks.headers(signing, delivery.event_id, stamp, delivery.body)
        timeout = (self.settings.connect_timeout, self.settings.read_timeout)
        try:
            # stream=True: the answer's body is never read, however large.
            response = self.http.post(
                delivery.url, data=delivery.body, headers=headers, timeout=timeout, stream=True
            )
        except requests.RequestException as exc:
            return None, None, type(exc).__name__
        with response:
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


def run(deliverer: Deliverer, stop: threading.Event, interval: float) -> None:
    """Deliver until `stop` is set, resting `interval` seconds whenever nothing was due."""
    while not stop.is_set():
        try:
            tried = deliverer.run_once()
        except Exception:
            # The store may be down; rows stay in the outbox and are tried later.
            log.exception("callback worker pass failed")
            tried = 0
        if not tried:
            stop.wait(interval)


def start(deliverer: Deliverer, interval: float) -> Callable[[], None]:
    """Run the worker in a daemon thread; return a function that stops it and waits."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run, args=(deliverer, stop, interval), name="callbacks", daemon=True
    )
    thread.start()

    def stopper() -> None:
        stop.set()
        thread.join(deliverer.settings.lease)

    return stopper
