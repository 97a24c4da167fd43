"""The storage port: what the use cases need from a store, whatever the engine."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Protocol

from app.domain.apps import App
from app.domain.challenges import Challenge, InboundMessage, Outcome, Status
from app.domain.parts import MessagePart


class StoreUnavailable(Exception):
    """The store could not be reached or could not commit; nothing was written."""


# A limit counter a chain charges: (key, window in seconds, limit). Over its limit, it refuses.
Hit = tuple[str, int, int]


@dataclass(frozen=True)
class Chain:
    """What a chain of limit counters said: the index of the one over its limit (None: none),
    and the (count, reset_at) of each counter charged, up to and including that one."""

    refused: int | None
    counts: list[tuple[int, datetime]]


@dataclass(frozen=True)
class Creation:
    """What became of a challenge's creation: its counters' chain and whether it was added.

    `pending` is read only when a capped insert added nothing and no counter refused: the
    count of pending challenges then (at the cap, or else the code was taken).
    """

    chain: Chain
    added: bool
    pending: int | None = None


@dataclass(frozen=True)
class SenderBudget:
    """A sender's failure budget as the store checks it: its counters' keys, the window a new
    count opens, and how many failures the window allows (app/limits/rules.py)."""

    counter: str
    block: str
    window: int
    limit: int


@dataclass(frozen=True)
class QuickMatch:
    """A message that may verify a challenge in one step (`Tx.settle_match`).

    `message` is the message as stored (codes masked); `hashes` are its codes' hashes in the
    order of the message; `spends` tells whether a verification still spends the sender's
    budget (several codes offered); `default_app_id` and `default_callback` say which
    challenges belong to the default app and whether it has a callback URL.
    """

    message: InboundMessage
    phone: str
    hashes: list[str]
    now: datetime
    spends: bool
    budget: SenderBudget | None
    default_app_id: str
    default_callback: bool


class Step(Enum):
    """What `Tx.settle_match` did with a message it did not settle."""

    DECLINED = "declined"  # nothing tested, nothing written: decide it in full
    UNDECIDED = "undecided"  # stored as received, its codes tested under a kept reservation
    DUPLICATE = "duplicate"  # stored and decided before: a redelivery


@dataclass(frozen=True)
class Settled:
    """The challenge a message verified in one step."""

    challenge_id: str
    created_at: datetime


class Tx(Protocol):
    """Operations inside one write transaction; every state change is conditional."""

    def add_challenge(self, challenge: Challenge) -> bool:
        """Insert; False if its code is already pending on the same number."""

    def settle_match(self, attempt: QuickMatch) -> Settled | Step:
        """Verify, store and charge a message in one atomic step when it verifies a challenge
        exactly as the full decision would (`match` says matched, the sender's budget allows
        one more failure and no cool-off runs, the message is not stored yet) and the change
        needs no callback; return what was verified. Otherwise say what was done:

        - DECLINED: nothing written; the full decision runs as before (SQLite, always: in the
          same transaction, where nothing runs between the step and the full decision);
        - UNDECIDED (PostgreSQL): the codes were tested under the sender's reservation, which
          is kept, and the message is stored as received; finish it (`claim_undecided`). Also
          the answer for a redelivery of a message still received (its first delivery failed
          before it was decided);
        - DUPLICATE: the message was stored and decided before.

        Only as the transaction's first step: on PostgreSQL it is one statement run in
        autocommit before the transaction begins on the server, committed when it returns
        (statements after it run in a transaction as usual); on SQLite it is part of the
        transaction.
        """

    def claim_undecided(self, provider: str, message_id: str) -> int | None:
        """Lock a stored message still received (undecided) and return its id; None when it
        is decided (by another delivery meanwhile) or absent."""

    def add_inbound(
        self,
        message: InboundMessage,
        received_at: datetime,
        outcome: Outcome | None = None,
        challenge_id: str | None = None,
    ) -> int | None:
        """Insert, with its outcome when known; None if (provider, message id) is stored."""

    def set_outcome(self, inbound_id: int, outcome: Outcome, challenge_id: str | None) -> None:
        """Record what became of an inbound message."""

    def find_by_code(self, number: str, code_hashes: list[str]) -> Challenge | None:
        """The challenge on `number` holding one of the hashes: pending first, then the
        first hash in the list's order, then the newest."""

    def verify_by_code(
        self, number: str, code_hashes: list[str], phone: str, now: datetime, channel: str = "sms"
    ) -> Challenge | None:
        """Verify one pending, unexpired challenge on `number` holding one of the hashes,
        offered on `channel` and whose expected phone (if any) is `phone`: the first such hash
        in the list's order. Return it as verified (by `channel`); every other challenge is
        left as it was."""

    def verify(self, challenge_id: str, phone: str, now: datetime, channel: str = "sms") -> bool:
        """Verify, by `channel`, a pending, unexpired challenge offered on that channel whose
        expected phone (if any) is `phone`."""

    def verify_checked(self, challenge_id: str, method: str, now: datetime) -> Challenge | None:
        """Verify a pending, unexpired challenge with an expected phone, that phone being the
        verified one, recording `method`; return it as verified, or None. For `email` the
        challenge needs an expected address instead, and no phone becomes verified."""

    def count_attempt(self, challenge_id: str, now: datetime) -> Challenge | None:
        """Add a failed attempt to a pending challenge, failing it at its limit."""

    def end(self, challenge_id: str, status: Status, now: datetime) -> bool:
        """Move a pending challenge to a final status."""

    def renew(self, challenge: Challenge, now: datetime) -> bool:
        """Replace a pending challenge's code; False if the new code is taken."""

    def hit_chain(self, hits: Sequence[Hit], now: datetime) -> Chain:
        """Charge limit counters in order, stopping after the first one over its limit."""

    def hit_counter(
        self, key: str, window: int, now: datetime, amount: int
    ) -> tuple[int, datetime]:
        """Add to a limit counter atomically (a new window if it ended); return (count, reset)."""

    def peek_counter(self, key: str, now: datetime) -> tuple[int, datetime] | None:
        """Return a limit counter's (count, reset) in its current window, or None."""

    def add_part(
        self, part: MessagePart, received_at: datetime
    ) -> tuple[str, dict[int, tuple[str, str]]]:
        """Store one part of a long SMS in its group's open group, locking it; a retry (same
        message id) changes nothing and reads the group the part was stored in.

        Returns the group's key and every stored part as {index: (message id, text)}.
        """

    def set_part_texts(self, provider: str, key: str, texts: dict[int, str]) -> None:
        """Replace the texts of a group's parts, {index: text} (to mask what was matched)."""

    def close_group(self, provider: str, key: str, closed_key: str) -> None:
        """Move an assembled group's rows to `closed_key`: a later long SMS that reuses the
        concatenation reference starts a new group; retries of these parts still find them."""

    def challenge(self, challenge_id: str) -> Challenge | None:
        """Read a challenge inside the transaction (it sees this transaction's changes)."""

    def app(self, app_id: str) -> App | None:
        """Read an app inside the transaction."""

    def add_callback(self, event: NewCallback) -> None:
        """Add a callback to the outbox; it commits or rolls back with the transaction."""


@dataclass(frozen=True)
class NewCallback:
    """A callback event to record in the outbox."""

    event_id: str
    app_id: str
    challenge_id: str
    event_type: str
    url: str
    body: bytes
    created_at: datetime


@dataclass(frozen=True)
class Delivery:
    """One claimed callback: what to send, and the lease that lets only us record the result."""

    id: int
    event_id: str
    app_id: str
    challenge_id: str
    event_type: str
    url: str
    body: bytes
    attempts: int
    created_at: datetime
    lease: str


class AppStore(Protocol):
    """Apps and their keys."""

    def add_app(self, app: App) -> None: ...

    def app(self, app_id: str) -> App | None: ...

    def list_apps(self) -> list[App]: ...

    def revoke_app(self, app_id: str, now: datetime) -> bool: ...

    def add_app_key(self, key_hash: str, name: str, app_id: str, now: datetime) -> None: ...

    def revoke_app_keys(self, app_id: str, now: datetime) -> int: ...

    def set_callback_secret(
        self, app_id: str, secret: str, old: str | None, old_until: datetime
    ) -> None: ...

    def key_counts(self) -> dict[str, int]: ...

    def api_key_app(self, key_hash: str) -> str | None: ...


class OutboxStore(Protocol):
    """The callback outbox, as the delivery worker sees it."""

    def claim_callbacks(
        self,
        now: datetime,
        lease_until: datetime,
        lease: str,
        limit: int,
        skip_apps: Collection[str] = (),
    ) -> list[Delivery]: ...

    def finish_callback(self, delivery: Delivery, now: datetime, outcome: Attempt) -> bool: ...

    def release_callbacks(self, deliveries: list[Delivery]) -> None: ...

    def list_callbacks(self, state: str | None, limit: int) -> list[dict[str, Any]]: ...

    def retry_callback(self, event_id: str, now: datetime) -> bool: ...

    def prune_callbacks(self, before: datetime) -> int: ...

    def app(self, app_id: str) -> App | None: ...


@dataclass(frozen=True)
class Attempt:
    """What one delivery attempt came to, and what the row becomes."""

    state: str
    status: int | None
    error: str | None
    next_attempt_at: datetime | None = None


class PageEventStore(Protocol):
    """What the hosted page reports (app/domain/funnel.py)."""

    def record_page_event(
        self, challenge_id: str, app_id: str | None, name: str, now: datetime
    ) -> bool:
        """Record an event once per challenge; False when it was already recorded."""


class Store(AppStore, OutboxStore, PageEventStore, Protocol):
    """Reads outside transactions, and a write transaction."""

    def create_schema(self) -> None: ...

    def dispose(self) -> None:
        """Close the connection pools (a command closes them before it ends)."""

    def begin(self) -> AbstractContextManager[Tx]: ...

    def create_challenge(
        self,
        challenge: Challenge,
        now: datetime,
        max_pending: int | None = None,
        hits: Sequence[Hit] = (),
    ) -> Creation:
        """Charge the counters in `hits` (app/limits: kept in this store), then add the
        challenge if none refused and fewer than `max_pending` (None: no cap) are pending;
        in one transaction."""

    def challenge(self, challenge_id: str) -> Challenge | None: ...

    def challenge_by_token(self, token_hashes: list[str]) -> Challenge | None: ...

    def add_api_key(self, key_hash: str, name: str, now: datetime) -> None: ...

    def api_key_valid(self, key_hashes: list[str]) -> bool: ...

    def due_expiries(self, now: datetime, limit: int) -> list[str]: ...

    def final_statuses(self, challenge_ids: list[str]) -> dict[str, str]:
        """Return the statuses of those challenges that are no longer pending."""

    def purge(self, before: datetime, limit: int) -> int:
        """Delete up to `limit` challenges, inbound messages and message parts (each) older
        than `before`."""

    def ping(self) -> None: ...
