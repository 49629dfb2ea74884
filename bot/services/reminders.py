"""The sweep that sends due reminders exactly once, even across restarts and replicas."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from bot import domain, messages
from bot.blocks.card import card_text, crisis_card, nag_blocks
from bot.config import Settings
from bot.db.models import Crisis
from bot.durations import format_duration
from bot.services.crises import finish_declaration
from bot.services.port import SlackFailure, SlackPort
from bot.services.schedule import (
    ESCALATION,
    FINISH_DECLARE,
    FOLLOW_UP,
    HEADS_UP,
    OVERDUE,
    Due,
    next_reminder,
    reschedule,
)
from bot.services.timeline import record

log = logging.getLogger(__name__)

# How long a claimed crisis is hidden from other sweeps while its reminder is being sent.
CLAIM_LEASE = timedelta(seconds=60)
RETRY_AFTER_FAILURE = timedelta(seconds=60)


def claim_due(session: Session, *, now: datetime, limit: int = 200) -> list[int]:
    """Claim crises whose next check has come, hiding them from other sweeps for a lease."""
    query = (
        select(Crisis.id)
        .where(Crisis.next_check_at.is_not(None), Crisis.next_check_at <= now)
        .order_by(Crisis.next_check_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(session.scalars(query))
    if ids:
        session.execute(
            update(Crisis).where(Crisis.id.in_(ids)).values(next_check_at=now + CLAIM_LEASE)
        )
    session.commit()
    return ids


@dataclass(frozen=True)
class Sent:
    """A reminder that went out, for logs and tests."""

    crisis_id: int
    kind: str
    at: datetime


def sweep(
    *,
    session_factory: Callable[[], Session],
    slack: SlackPort,
    settings: Settings,
    now: datetime,
) -> list[Sent]:
    """Send every reminder that is due by ``now``, once each; returns what was sent."""
    with session_factory() as session:
        ids = claim_due(session, now=now)
    sent: list[Sent] = []
    for crisis_id in ids:
        with session_factory() as session:
            sent.extend(
                _send_due(
                    session,
                    slack=slack,
                    settings=settings,
                    crisis_id=crisis_id,
                    now=now,
                )
            )
    return sent


def _send_due(
    session: Session,
    *,
    slack: SlackPort,
    settings: Settings,
    crisis_id: int,
    now: datetime,
) -> list[Sent]:
    sent: list[Sent] = []
    # Several reminders can be due at once (an overdue nag and the escalation); each goes once.
    for _ in range(4):
        crisis = session.get(Crisis, crisis_id, options=[selectinload(Crisis.acknowledgements)])
        if crisis is None:
            return sent
        due = next_reminder(crisis, settings, now)
        if due is None or due.at > now:
            crisis.next_check_at = due.at if due else None
            session.commit()
            return sent
        if due.kind == FINISH_DECLARE:
            try:
                finish_declaration(
                    session=session, slack=slack, settings=settings, crisis=crisis, now=now
                )
            except SlackFailure as failure:
                log.warning("crisis %s: resuming declaration failed: %s", crisis_id, failure)
                session.rollback()
                crisis.next_check_at = now + RETRY_AFTER_FAILURE
                session.commit()
                return sent
            continue
        version = crisis.version
        session.commit()  # never hold a transaction open across a Slack call
        try:
            _deliver(crisis, due, slack=slack, settings=settings, now=now)
        except SlackFailure as failure:
            log.warning("crisis %s: %s reminder failed: %s", crisis_id, due.kind, failure)
            session.refresh(crisis)
            crisis.next_check_at = now + RETRY_AFTER_FAILURE
            session.commit()
            return sent
        session.refresh(crisis)
        if crisis.version != version:
            # The owner posted an update or closed meanwhile; the new state decides what is next.
            reschedule(crisis, settings, now)
            session.commit()
            return sent
        _mark_sent(session, crisis, due, settings=settings, now=now)
        session.commit()
        sent.append(Sent(crisis_id, due.kind, now))
    return sent


def _deliver(
    crisis: Crisis, due: Due, *, slack: SlackPort, settings: Settings, now: datetime
) -> None:
    channel = crisis.channel_id or ""
    snooze_label = f"Snooze {format_duration(settings.snooze)}"
    if due.kind == HEADS_UP:
        assert crisis.next_update_due_at is not None
        text = messages.heads_up(crisis.customer, channel, crisis.next_update_due_at)
        slack.dm(user=crisis.owner_id, text=text, blocks=nag_blocks(crisis, text, snooze_label))
    elif due.kind == OVERDUE:
        assert crisis.next_update_due_at is not None
        text = messages.overdue(
            crisis.customer, channel, crisis.next_update_due_at, crisis.nags_sent + 1
        )
        slack.dm(user=crisis.owner_id, text=text, blocks=nag_blocks(crisis, text, snooze_label))
        if crisis.nags_sent == 0 and channel and crisis.card_ts:
            # The moment it becomes overdue, the card in the channel says so too.
            slack.update(
                channel=channel,
                ts=crisis.card_ts,
                text=card_text(crisis),
                blocks=crisis_card(crisis, now=now, ack_emoji=settings.ack_emoji),
            )
    elif due.kind == ESCALATION:
        assert crisis.next_update_due_at is not None
        late = now - crisis.next_update_due_at
        if settings.escalation_channel:
            slack.post(
                channel=settings.escalation_channel,
                text=messages.escalation(
                    crisis.customer, channel, crisis.owner_id, crisis.next_update_due_at, late
                ),
            )
        if channel:
            slack.post(channel=channel, text=messages.escalation_note(late))
    elif due.kind == FOLLOW_UP:
        assert crisis.closed_at is not None
        slack.dm(
            user=crisis.owner_id,
            text=messages.follow_up(crisis.customer, channel, crisis.closed_at),
        )


def _mark_sent(
    session: Session, crisis: Crisis, due: Due, *, settings: Settings, now: datetime
) -> None:
    if due.kind == HEADS_UP:
        crisis.heads_up_sent_at = now
        record(session, crisis, kind=domain.HEADS_UP_SENT, at=now, detail=f"to {crisis.owner_id}")
    elif due.kind == OVERDUE:
        crisis.last_nag_at = now
        crisis.nags_sent += 1
        # Once overdue, a heads-up for this commitment would be pointless.
        crisis.heads_up_sent_at = crisis.heads_up_sent_at or now
        record(
            session,
            crisis,
            kind=domain.NAG_SENT,
            at=now,
            detail=f"overdue reminder {crisis.nags_sent} to {crisis.owner_id}",
        )
    elif due.kind == ESCALATION:
        crisis.escalated_at = now
        record(
            session,
            crisis,
            kind=domain.ESCALATED,
            at=now,
            detail=settings.escalation_channel or "crisis channel only",
        )
    elif due.kind == FOLLOW_UP:
        crisis.follow_up_sent_at = now
        record(session, crisis, kind=domain.FOLLOW_UP_SENT, at=now, detail=f"to {crisis.owner_id}")
    reschedule(crisis, settings, now)
