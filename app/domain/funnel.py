"""The conversion funnel: the steps a challenge goes through, and the page's own events.

A challenge is created; its hosted page is opened; the user taps "Send the SMS" (phone) or
is shown the QR code (desktop); the SMS arrives; the challenge is verified. The page reports
the middle steps itself (a beacon authenticated by the page token); each counts once per
challenge.
"""

from __future__ import annotations

from dataclasses import dataclass

PAGE_OPENED = "page_opened"
SEND_TAPPED = "send_tapped"
QR_SHOWN = "qr_shown"
PAGE_EVENTS = frozenset({PAGE_OPENED, SEND_TAPPED, QR_SHOWN})

# The funnel's steps in order, with the label the dashboard shows.
STEPS = (
    ("created", "Challenges created"),
    ("opened", "Page opened"),
    ("sent", "\u201cSend the SMS\u201d tapped or QR shown"),
    ("received", "SMS received"),
    ("verified", "Verified"),
)


@dataclass(frozen=True)
class Reached:
    """What one challenge reached: its page events, whether an SMS came, whether verified."""

    events: frozenset[str]
    received: bool
    verified: bool

    def steps(self) -> list[str]:
        """Return the funnel steps this challenge reached (a later step implies none before)."""
        done = {
            "created": True,
            "opened": PAGE_OPENED in self.events,
            "sent": bool({SEND_TAPPED, QR_SHOWN} & self.events),
            "received": self.received,
            "verified": self.verified,
        }
        return [name for name, _ in STEPS if done[name]]


@dataclass(frozen=True)
class Step:
    name: str
    label: str
    count: int
    share: float | None  # of the challenges created
    drop: int  # challenges lost since the previous step


def funnel(reached: list[Reached]) -> list[Step]:
    """Count the challenges at each step, their share of those created and the drop."""
    counts = {name: 0 for name, _ in STEPS}
    for one in reached:
        for name in one.steps():
            counts[name] += 1
    created = counts["created"]
    out: list[Step] = []
    before = created
    for name, label in STEPS:
        count = counts[name]
        share = None if created == 0 else count / created
        out.append(Step(name, label, count, share, max(0, before - count)))
        before = count
    return out
