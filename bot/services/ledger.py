"""The promise ledger: every promise of an update made to a customer, and how it ended.

A promise is made when a crisis is declared and each time its commitment is renewed (an
update, a reopen, a message sent to the customer); the renewal keeps the promise before it,
on time or late. Closing a crisis keeps the open promise if it was not yet due (closing tells
the team) and breaks it if it was already overdue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, case, distinct, func, select
from sqlalchemy.orm import Session, object_session

from bot.db.models import Crisis, CustomerPromise
from bot.enums import PromiseOutcome, PromiseTold
from bot.services.schedule import Promise, new_commitment
from bot.services.scope import Scope


def make(session: Session, *, crisis: Crisis, at: datetime, due: datetime) -> CustomerPromise:
    """Record a promise made at ``at`` of an update by ``due`` (the caller commits)."""
    promise = CustomerPromise(crisis=crisis, made_at=at, due_at=due, team_id=crisis.team_id)
    session.add(promise)
    return promise


def _open(session: Session, crisis: Crisis) -> Sequence[CustomerPromise]:
    if crisis.id is None:
        return []
    return session.scalars(
        select(CustomerPromise)
        .where(CustomerPromise.crisis_id == crisis.id, CustomerPromise.outcome.is_(None))
        .order_by(CustomerPromise.id)
        .with_for_update()
    ).all()


def keep(session: Session, *, crisis: Crisis, at: datetime, told: PromiseTold) -> int:
    """End the open promise as kept at ``at`` (on time, or late by how much) by telling the
    team or the customer; how many were kept (0 when none was open: one already ended is
    never kept again). The caller commits."""
    kept = _open(session, crisis)
    for promise in kept:
        late = int((at - promise.due_at).total_seconds())
        promise.ended_at = at
        promise.told = told
        promise.outcome = PromiseOutcome.LATE if late > 0 else PromiseOutcome.KEPT
        promise.late_seconds = max(late, 0)
    return len(kept)


def end_at_closure(session: Session, *, crisis: Crisis, at: datetime) -> None:
    """Closing ends the open promise: kept (the closure tells the team) if it was not yet
    due, broken if it was already overdue. The caller commits."""
    for promise in _open(session, crisis):
        overdue = int((at - promise.due_at).total_seconds())
        promise.ended_at = at
        if overdue > 0:
            promise.outcome = PromiseOutcome.BROKEN
            promise.told = None
        else:
            promise.outcome = PromiseOutcome.KEPT
            promise.told = PromiseTold.TEAM
        promise.late_seconds = max(overdue, 0)


def renew(scope: Scope, *, crisis: Crisis, promised: Promise, told: PromiseTold) -> None:
    """The one way a commitment is renewed (an update, a reopen, a message to the customer):
    keep the open promise (``told`` says how), make the next one, and restart the reminder
    clock. Recorded in the caller's transaction (the caller commits), together with what
    renewed it, so the sweep finishing its Slack posts after a crash never keeps it twice."""
    keep(scope.session, crisis=crisis, at=scope.now, told=told)
    make(scope.session, crisis=crisis, at=scope.now, due=promised.at)
    new_commitment(crisis, scope.settings, due=promised.at, now=scope.now, zone=promised.zone)


@dataclass(frozen=True)
class Tally:
    """How the promises that have ended came out: of a crisis, or across an account's."""

    ended: int = 0
    on_time: int = 0
    late: int = 0
    broken: int = 0
    # The most a late promise was late by, in seconds (0 when none was).
    most_late: int = 0
    crises: int = 0

    @property
    def kept(self) -> int:
        return self.on_time + self.late


def _tally(session: Session, *where: ColumnElement[bool]) -> Tally:
    def count(outcome: PromiseOutcome) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((CustomerPromise.outcome == outcome, 1), else_=0)), 0)

    row = session.execute(
        select(
            func.count(CustomerPromise.id),
            count(PromiseOutcome.KEPT),
            count(PromiseOutcome.LATE),
            count(PromiseOutcome.BROKEN),
            func.coalesce(
                func.max(
                    case(
                        (
                            CustomerPromise.outcome == PromiseOutcome.LATE,
                            CustomerPromise.late_seconds,
                        ),
                        else_=0,
                    )
                ),
                0,
            ),
            func.count(distinct(CustomerPromise.crisis_id)),
        ).where(CustomerPromise.outcome.is_not(None), *where)
    ).one()
    return Tally(*(int(value) for value in row))


def tally(session: Session, *, crisis_id: int) -> Tally:
    """How this crisis's ended promises came out, counted by the database."""
    return _tally(session, CustomerPromise.crisis_id == crisis_id)


def tally_of(crisis: Crisis) -> Tally | None:
    """The tally for the card of a crisis read through a session (None when detached)."""
    session = object_session(crisis)
    if session is None or crisis.id is None:
        return None
    return tally(session, crisis_id=crisis.id)


def account_record(session: Session, *, account_id: int) -> Tally:
    """How the promises made across an account's crises came out."""
    of_account = select(Crisis.id).where(Crisis.account_id == account_id)
    return _tally(session, CustomerPromise.crisis_id.in_(of_account))


def promises_of(session: Session, *, crisis_id: int) -> list[CustomerPromise]:
    """The crisis's promises, first made first."""
    return list(
        session.scalars(
            select(CustomerPromise)
            .where(CustomerPromise.crisis_id == crisis_id)
            .order_by(CustomerPromise.made_at, CustomerPromise.id)
        )
    )
