"""Where the team talks about a crisis: its own channel, or, for an account's crisis made by an
outage and not split off, the outage's channel. Only models here, so every service may ask."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import object_session

from bot.db.models import Crisis, Outage, OutageAccount


def outage_channel(crisis: Crisis) -> str | None:
    """The channel of the outage this crisis is linked to (None: it is linked to none)."""
    session = object_session(crisis)
    if session is None:
        return None
    return session.scalars(
        select(Outage.channel_id)
        .join(OutageAccount, OutageAccount.outage_id == Outage.id)
        .where(OutageAccount.crisis_id == crisis.id, OutageAccount.removed_at.is_(None))
        .order_by(Outage.id.desc())
    ).first()


def talk_channel(crisis: Crisis) -> str:
    """The crisis channel, else its outage's channel, else "" (neither)."""
    return crisis.channel_id or outage_channel(crisis) or ""
