"""Short leases on work in flight, renewed by the process doing it, given back at shutdown.

A crisis being declared, having an update or notice posted, or having a reminder sent is
claimed by the process doing it: ``crises.claimed_by`` is the process's token and
``crises.next_check_at`` (which the sweep looks at) is pushed ``CRISISBOT_LEASE`` ahead. While
the work runs, however long Slack's rate limits make it wait, the process's heartbeat pushes
the lease forward again every ``CRISISBOT_HEARTBEAT``. A process that dies stops renewing:
within one lease its work falls due and another replica's sweep finishes it (each step looks
in Slack first, so nothing is done twice). A process that stops cleanly gives its claims back
at once.

An outage broadcast being sent and the weekly digest being posted are held the same way:
their rows' ``claimed_by`` and ``lease_until``, renewed by the same heartbeat while the work
runs; one whose lease ran out is taken over at any replica's next check
(``outages.resume_broadcasts``, ``digest.send_due_digest``).

Which crises and rows a process is working on is kept in memory (``Claims``), not read from
the tables: a ``claimed_by`` left on a row by work that has ended is never renewed.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bot.db.models import Broadcast, Crisis, Digest
from bot.enums import CrisisStatus

# Crises renewed or released per statement (SQLite allows 32,766 parameters).
CHUNK = 500

# Rows held by a lease of their own (``claimed_by``, ``lease_until``), each with the column
# that says the work is done.
Leased = type[Broadcast] | type[Digest]
LEASED: tuple[tuple[Leased, str], ...] = ((Broadcast, "finished_at"), (Digest, "sent_at"))


class Claims:
    """This process's token and the crises it is working on now (a count per crisis: a
    reminder and a post can be under way on the same crisis at once)."""

    def __init__(self, token: str | None = None) -> None:
        self.token = token or uuid.uuid4().hex
        self._held: Counter[int] = Counter()
        self._rows: dict[Leased, set[int]] = {}
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    def take(self, crisis_id: int) -> bool:
        """Hold a crisis the sweep just claimed; False if this process is working on it
        already (its lease lapsed under load and our own sweep claimed it again)."""
        with self._lock:
            if self._held[crisis_id]:
                return False
            self._held[crisis_id] = 1
            return True

    def hold(self, crisis_id: int) -> None:
        with self._lock:
            self._held[crisis_id] += 1

    def drop(self, crisis_id: int) -> None:
        with self._lock:
            self._held[crisis_id] -= 1
            if self._held[crisis_id] <= 0:
                del self._held[crisis_id]

    @contextmanager
    def holding(self, crisis_id: int) -> Iterator[None]:
        """Keep the crisis's lease renewed while the block runs."""
        self.hold(crisis_id)
        try:
            yield
        finally:
            self.drop(crisis_id)

    def held(self) -> list[int]:
        with self._lock:
            return sorted(self._held)

    def forget(self, crisis_ids: Iterable[int]) -> None:
        """No longer working on these (their claims were given back)."""
        with self._lock:
            for crisis_id in crisis_ids:
                self._held.pop(crisis_id, None)

    def count(self, crisis_id: int) -> int:
        """How many pieces of work in this process are on the crisis."""
        with self._lock:
            return self._held.get(crisis_id, 0)

    @contextmanager
    def leasing(self, model: Leased, row_id: int) -> Iterator[None]:
        """Keep the lease of a row of ``model`` (a broadcast being sent, a digest being
        posted) renewed while the block runs."""
        with self._lock:
            self._rows.setdefault(model, set()).add(row_id)
        try:
            yield
        finally:
            with self._lock:
                self._rows[model].discard(row_id)

    def leased(self, model: Leased) -> list[int]:
        """The rows of ``model`` this process is working on now."""
        with self._lock:
            return sorted(self._rows.get(model, ()))

    def busy(self) -> bool:
        """Whether this process holds any lease to renew."""
        with self._lock:
            return bool(self._held) or any(self._rows.values())

    def stop_starting(self) -> None:
        """The process is stopping: long work (a broadcast) stops before its next step and is
        given back (``release``) for another replica to finish at once."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()


def claim(crisis: Crisis, *, claims: Claims, now: datetime, lease: timedelta) -> None:
    """Mark ``crisis`` as worked on by this process for one lease (the caller commits)."""
    crisis.claimed_by = claims.token
    crisis.next_check_at = now + lease


@contextmanager
def working(session: Session, claims: Claims, crisis_id: int) -> Iterator[None]:
    """Keep the crisis's lease renewed while the block runs; when it ends and no other work in
    this process is on the crisis, clear the claim if nothing is left half-done (else the
    lease runs out and the sweep finishes it)."""
    with claims.holding(crisis_id):
        yield
    if claims.count(crisis_id):
        return
    session.execute(
        update(Crisis)
        .where(
            Crisis.id == crisis_id,
            Crisis.claimed_by == claims.token,
            Crisis.pending_since.is_(None),
            Crisis.status != CrisisStatus.DECLARING,
        )
        .values(claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def renew(session: Session, *, claims: Claims, now: datetime, lease: timedelta) -> int:
    """Push the lease of every crisis this process is working on to ``now + lease``; only
    where the claim is still ours (a replica that took it over keeps it). Returns how many."""
    renewed = 0
    for ids in _chunks(claims.held()):
        result = session.execute(
            update(Crisis)
            .where(
                Crisis.id.in_(ids),
                Crisis.claimed_by == claims.token,
                Crisis.next_check_at.is_not(None),
                Crisis.next_check_at < now + lease,
            )
            .values(next_check_at=now + lease)
            .execution_options(synchronize_session=False)
        )
        renewed += int(getattr(result, "rowcount", 0) or 0)
    for model, done in LEASED:
        ids = claims.leased(model)
        if not ids:
            continue
        result = session.execute(
            update(model)
            .where(
                model.id.in_(ids),
                model.claimed_by == claims.token,
                getattr(model, done).is_(None),
            )
            .values(lease_until=now + lease)
            .execution_options(synchronize_session=False)
        )
        renewed += int(getattr(result, "rowcount", 0) or 0)
    session.commit()
    return renewed


def claim_broadcast(
    session: Session, *, broadcast_id: int, claims: Claims, now: datetime, lease: timedelta
) -> bool:
    """Take over a broadcast whose sender's lease ran out (or was given back); False if it is
    finished, or another process holds it (a compare-and-set: one replica wins)."""
    result = session.execute(
        update(Broadcast)
        .where(
            Broadcast.id == broadcast_id,
            Broadcast.sent_at.is_not(None),
            Broadcast.finished_at.is_(None),
            or_(Broadcast.lease_until.is_(None), Broadcast.lease_until <= now),
        )
        .values(claimed_by=claims.token, lease_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return int(getattr(result, "rowcount", 0) or 0) == 1


def holds_broadcast(session: Session, *, broadcast_id: int, claims: Claims) -> bool:
    """Whether the broadcast is still this process's to send: not stopping, and its claim not
    taken over by a replica that found the lease run out."""
    if claims.stopping:
        return False
    holder = session.scalar(select(Broadcast.claimed_by).where(Broadcast.id == broadcast_id))
    return holder == claims.token


def release(session: Session, *, claims: Claims, now: datetime) -> int:
    """Give back every claim this process holds, due at once, so another replica takes the
    work now instead of after the lease; returns how many."""
    released = 0
    held = claims.held()
    for ids in _chunks(held):
        result = session.execute(
            update(Crisis)
            .where(
                Crisis.id.in_(ids),
                Crisis.claimed_by == claims.token,
                Crisis.next_check_at.is_not(None),
            )
            .values(next_check_at=now, claimed_by=None)
            .execution_options(synchronize_session=False)
        )
        released += int(getattr(result, "rowcount", 0) or 0)
    # Broadcasts and digests by token: one cut short by an error is no longer held, but is
    # still ours to give back. (A digest keeps who claimed it: its take-over compares it.)
    result = session.execute(
        update(Broadcast)
        .where(Broadcast.claimed_by == claims.token, Broadcast.finished_at.is_(None))
        .values(lease_until=now, claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    released += int(getattr(result, "rowcount", 0) or 0)
    result = session.execute(
        update(Digest)
        .where(
            Digest.claimed_by == claims.token,
            Digest.sent_at.is_(None),
            Digest.lease_until > now,
        )
        .values(lease_until=now)
        .execution_options(synchronize_session=False)
    )
    released += int(getattr(result, "rowcount", 0) or 0)
    session.commit()
    claims.forget(held)
    return released


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]
