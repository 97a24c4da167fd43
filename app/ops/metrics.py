"""Prometheus metrics: the Observer that counts, and the text /metrics serves.

Each app owns its registry, so tests can build many apps in one process. Under gunicorn,
`reverse-otp serve` sets PROMETHEUS_MULTIPROC_DIR before this module is imported: every
worker then writes its values to files there, and `exposition()` merges them, so a scrape
sees the sum over workers whichever worker answers it.

Import this module only from the factory: prometheus_client reads the environment variable
when it is first imported.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess as mp

from app.domain.challenges import Outcome, Status

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
VERIFY_BUCKETS = (5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 900, 1800, 3600)


def multiprocess() -> bool:
    """True when values are shared between worker processes through files."""
    return bool(os.environ.get(MULTIPROC_ENV))


class PrometheusMetrics:
    """The Observer feeding Prometheus counters, a histogram and a gauge."""

    def __init__(self, providers: list[str]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.created = Counter("reverse_otp_challenges_created", "Challenges created.", registry=r)
        self.ended = Counter(
            "reverse_otp_challenges_ended", "Challenges ended, by final status.", ["status"],
            registry=r,
        )  # fmt: skip
        self.time_to_verify = Histogram(
            "reverse_otp_time_to_verify_seconds",
            "Seconds from a challenge's creation to its verification.",
            buckets=VERIFY_BUCKETS,
            registry=r,
        )
        self.inbound = Counter(
            "reverse_otp_inbound_messages", "Inbound SMS, by provider and outcome.",
            ["provider", "outcome"], registry=r,
        )  # fmt: skip
        self.checks = Counter(
            "reverse_otp_code_checks", "Codes presented to /check, by method (test, ...) and"
            " outcome (verified, wrong_code, refused).", ["method", "outcome"], registry=r,
        )  # fmt: skip
        self.rejected = Counter(
            "reverse_otp_webhook_rejections", "Webhook requests refused, by provider and reason.",
            ["provider", "reason"], registry=r,
        )  # fmt: skip
        self.streams = Gauge(
            "reverse_otp_open_streams", "Live status streams (SSE) open now.",
            registry=r, multiprocess_mode="livesum",
        )  # fmt: skip
        self.deliveries = Counter(
            "reverse_otp_callback_deliveries", "Callback delivery attempts, by outcome.",
            ["outcome"], registry=r,
        )  # fmt: skip
        self.retries = Counter(
            "reverse_otp_callback_retries", "Callback deliveries scheduled again.", registry=r
        )
        self.sends = Counter(
            "reverse_otp_outbound_sends", "Codes sent to users, by sender, country and status.",
            ["sender", "country", "status"], registry=r,
        )  # fmt: skip
        self.send_refusals = Counter(
            "reverse_otp_outbound_refusals", "Code sends refused by a pumping guard, by guard.",
            ["guard"], registry=r,
        )  # fmt: skip
        self._zeros(providers)

    def _zeros(self, providers: list[str]) -> None:
        """Create the usual label sets at zero, so rates work from the first scrape."""
        for status in Status:
            if status.final:
                self.ended.labels(status.value)
        for provider in providers:
            for outcome in (Outcome.MATCHED, Outcome.UNKNOWN_CODE, Outcome.NO_CODE):
                self.inbound.labels(provider, outcome.value)
        for delivery in ("delivered", "failed", "abandoned"):
            self.deliveries.labels(delivery)
        for guard in ("country_not_allowed", "line_type_refused", "breaker_open"):
            self.send_refusals.labels(guard)

    def outbound_send(self, sender: str, country: str, status: str) -> None:
        """A code was sent (or failed, or a receipt moved it): by sender, country, status."""
        self.sends.labels(sender, country or "-", status).inc()

    def send_refused(self, guard: str) -> None:
        """A pumping guard refused a send (its refusal word: country_not_allowed, cap_...)."""
        self.send_refusals.labels(guard).inc()

    def challenge_created(self) -> None:
        self.created.inc()

    def challenge_ended(self, status: str) -> None:
        self.ended.labels(status).inc()

    def verified_after(self, seconds: float) -> None:
        self.time_to_verify.observe(max(seconds, 0.0))

    def inbound_recorded(self, provider: str, outcome: str) -> None:
        self.inbound.labels(provider, outcome).inc()

    def code_checked(self, method: str, outcome: str) -> None:
        self.checks.labels(method, outcome).inc()

    def webhook_rejected(self, provider: str, reason: str) -> None:
        self.rejected.labels(provider, reason).inc()

    def stream_opened(self) -> None:
        self.streams.inc()

    def stream_closed(self) -> None:
        self.streams.dec()

    def callback_delivery(self, outcome: str) -> None:
        self.deliveries.labels(outcome).inc()

    def callback_retry(self) -> None:
        self.retries.inc()

    def exposition(self) -> bytes:
        """Return the metrics in Prometheus text format (summed over workers when shared)."""
        if not multiprocess():
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        mp.MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
        return generate_latest(merged)


def worker_exited(pid: int) -> None:
    """Drop a dead worker's live gauges (gunicorn's child_exit hook)."""
    if multiprocess():
        mp.mark_process_dead(pid)  # type: ignore[no-untyped-call]
