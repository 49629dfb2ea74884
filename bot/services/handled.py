"""Slack events handled: an event is marked handled in the transaction that stores its
effect, not when it arrives, so a crash or a failure in between leaves it unmarked and
Slack's retry of it is handled; a delivery of an event already handled is dropped."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import ProcessedEvent
from bot.db.upsert import insert_or_skip

# Slack's event ids are short; the column holds 64 characters.
MAX_ID = 64


def already(session: Session, event_id: str) -> bool:
    """Whether the effect of this event is stored already."""
    found = session.scalar(
        select(ProcessedEvent.event_id).where(ProcessedEvent.event_id == event_id[:MAX_ID])
    )
    session.rollback()  # only a read: end it before the listener's own work
    return found is not None


def mark(session: Session, event_id: str | None, *, at: datetime) -> None:
    """Add the mark to the transaction that stores the event's effect (the caller commits;
    a concurrent delivery of the same event then fails on the key and stores nothing)."""
    if event_id:
        session.add(ProcessedEvent(event_id=event_id[:MAX_ID], at=at))


def mark_alone(session: Session, event_id: str | None, *, at: datetime) -> None:
    """Mark an event handled whose outcome stores nothing (or was stored already)."""
    if not event_id:
        return
    session.execute(
        insert_or_skip(session, ProcessedEvent).values(event_id=event_id[:MAX_ID], at=at)
    )
    session.commit()
