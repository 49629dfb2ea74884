"""Recording what happened, with who and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.db.models import Crisis, TimelineEvent
from bot.enums import TimelineKind


def record(
    session: Session,
    crisis: Crisis,
    *,
    kind: TimelineKind,
    at: datetime,
    actor_id: str | None = None,
    detail: str = "",
) -> TimelineEvent:
    """Add a timeline row for ``crisis`` (the caller commits)."""
    # Set from the event's side: appending to ``crisis.timeline`` would load the whole
    # timeline first, a query per line recorded that grows with the crisis.
    event = TimelineEvent(
        kind=kind,
        actor_id=actor_id,
        at=at,
        detail=detail[:4000],
        crisis=crisis,
        team_id=crisis.team_id,
    )
    session.add(event)
    return event
