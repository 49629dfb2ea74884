"""The sweep that sends due reminders exactly once, even across crashes and replicas.

1. Claim: one atomic UPDATE marks the due crises with this sweep's token and hides them
   from other sweeps for a lease (PostgreSQL skips rows another replica has locked).
2. For each claimed crisis, record the reminder it owes in ``reminders`` (the outbox) and
   commit, then send it with the reminder's key in the message metadata.
3. Mark it sent and move the crisis on.

A sweep that dies between 2 and 3 leaves an unsent outbox row. When the lease runs out, the
next sweep finds that row, asks Slack whether a message with its key is already there, and
sends only if not: no reminder is lost and none goes out twice.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import domain, messages
from bot.blocks.card import card_text, crisis_card, nag_blocks
from bot.config import Settings
from bot.db.models import Crisis, Reminder
from bot.durations import format_duration
from bot.services.crises import end_read, finish_declaration
from bot.services.lifecycle import finish_posts
from bot.services.port import Blocks, SlackFailure, SlackPort
from bot.services.schedule import (
    ESCALATION,
    FINISH_DECLARE,
    FINISH_POSTS,
    FOLLOW_UP,
    HEADS_UP,
    OVERDUE,
    Due,
    next_reminder,
)
from bot.services.timeline import record

log = logging.getLogger(__name__)

# How long a claimed crisis is hidden from other sweeps while its reminder is being sent. It
# must outlast one send, pacing waits included (up to about a minute under Slack's tiers).
CLAIM_LEASE = timedelta(minutes=3)
RETRY_AFTER_FAILURE = timedelta(seconds=60)
CLAIM_BATCH = 2000
# One tick keeps claiming while whole batches come back, up to this many.
MAX_BATCHES = 20


@dataclass(frozen=True)
class Sent:
    """A reminder that went out, for logs and tests."""

    crisis_id: int
    kind: str
    at: datetime


@dataclass(frozen=True)
class Outgoing:
    """One message of a reminder: where it goes and what it says."""

    part: str
    channel: str
    text: str
    blocks: Blocks | None = None


def claim_due(
    session: Session, *, now: datetime, token: str, limit: int = CLAIM_BATCH
) -> list[int]:
    """Atomically claim up to ``limit`` crises whose next check has come; their ids in the
    order they fell due, the order their reminders should go out in."""
    due = list(
        session.scalars(
            select(Crisis.id)
            .where(Crisis.next_check_at.is_not(None), Crisis.next_check_at <= now)
            .order_by(Crisis.next_check_at, Crisis.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if not due:
        session.rollback()
        return []
    # Checked again as it is claimed: on SQLite another sweep may have claimed some since.
    session.execute(
        update(Crisis)
        .where(Crisis.id.in_(due), Crisis.next_check_at <= now)
        .values(next_check_at=now + CLAIM_LEASE, claimed_by=token)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    claimed = set(
        session.scalars(
            select(Crisis.id).where(
                Crisis.claimed_by == token, Crisis.next_check_at == now + CLAIM_LEASE
            )
        )
    )
    return [crisis_id for crisis_id in due if crisis_id in claimed]


def sweep(
    *,
    session_factory: Callable[[], Session],
    slack: SlackPort,
    settings: Settings,
    now: datetime,
    executor: Executor | None = None,
    wait: bool = True,
    clock: Callable[[], datetime] | None = None,
) -> list[Sent]:
    """Send every reminder that is due by ``now``, once each; returns what was sent.

    With an ``executor``, claimed crises are handled in parallel: a thousand nags due in the
    same second should not wait on each other's Web API round trips. With ``wait=False`` the
    sweep only claims and hands the sending to the executor, so the next tick can claim what
    falls due meanwhile instead of waiting for this tick's sends; it then returns nothing.
    """
    token = uuid.uuid4().hex
    # Leases are counted from when they are taken: a send may wait in the queue after the tick.
    lease_clock = clock or (lambda: now)

    def handle(crisis_id: int) -> list[Sent]:
        # Claimed in due order, sent in due order: the place in line is taken now.
        with slack.keep_place(), session_factory() as session:
            return _send_due(
                session,
                slack=slack,
                settings=settings,
                crisis_id=crisis_id,
                now=now,
                token=token,
                clock=lease_clock,
            )

    sent: list[Sent] = []
    for _ in range(MAX_BATCHES):
        with session_factory() as session:
            ids = claim_due(session, now=now, token=token)
        if executor is not None and not wait:
            for crisis_id in ids:
                executor.submit(handle, crisis_id).add_done_callback(_log_failure)
        else:
            for batch in executor.map(handle, ids) if executor else map(handle, ids):
                sent.extend(batch)
        if len(ids) < CLAIM_BATCH:
            break
    return sent


def _log_failure(future: Future[list[Sent]]) -> None:
    error = future.exception()
    if error is not None:
        log.error("sending a reminder failed", exc_info=error)


def _send_due(
    session: Session,
    *,
    slack: SlackPort,
    settings: Settings,
    crisis_id: int,
    now: datetime,
    token: str,
    clock: Callable[[], datetime],
) -> list[Sent]:
    sent: list[Sent] = []
    # Several reminders can be due at once (an overdue nag and the escalation); each goes once.
    # The lease from the claim stays on the row until the loop ends, so no other sweep joins in.
    for _ in range(4):
        crisis = session.get(Crisis, crisis_id)
        if crisis is None or crisis.claimed_by != token:
            return sent  # another sweep took over after our lease ran out
        due = next_reminder(crisis, settings, now)
        if due is None or due.at > now:
            crisis.next_check_at = due.at if due else None
            crisis.claimed_by = None
            session.commit()
            return sent
        try:
            if due.kind == FINISH_POSTS:
                finish_posts(
                    session=session, slack=slack, settings=settings, crisis=crisis, now=now
                )
                continue
            if due.kind == FINISH_DECLARE:
                finish_declaration(
                    session=session,
                    slack=slack,
                    settings=settings,
                    crisis=crisis,
                    now=now,
                    resuming=True,
                )
                continue
            reminder = _outbox_row(session, crisis, due, token=token, now=now)
            if reminder.sent_at is None:
                version = crisis.version
                # Renew the lease in the same transaction as the outbox row, only if the claim
                # is still ours: another sweep that took over after it ran out does the sending.
                renewed = session.execute(
                    update(Crisis)
                    .where(Crisis.id == crisis_id, Crisis.claimed_by == token)
                    .values(next_check_at=clock() + CLAIM_LEASE)
                    .execution_options(synchronize_session=False)
                )
                if not getattr(renewed, "rowcount", 1):
                    session.rollback()
                    return sent
                session.commit()  # never hold a transaction open across a Slack call
                posted = _deliver(crisis, due, reminder, slack=slack, settings=settings, now=now)
                reminder.sent_at = now
                sent.append(Sent(crisis_id, due.kind, now))
                if posted:
                    log.info("crisis %s: %s sent", crisis_id, due.kind)
                else:
                    log.info("crisis %s: %s was already in Slack", crisis_id, due.kind)
                session.refresh(crisis)
                if crisis.version != version:
                    # An update, hand-over or closure came in meanwhile and rescheduled the
                    # crisis itself; record the send, not the state of an old commitment.
                    session.commit()
                    return sent
            _mark_sent(session, crisis, due, settings=settings, now=now)
            upcoming = next_reminder(crisis, settings, now)
            if upcoming is None or upcoming.at > now:
                # Nothing more due: release the claim in the same commit (one fewer per send).
                crisis.next_check_at = upcoming.at if upcoming else None
                crisis.claimed_by = None
                session.commit()
                return sent
            session.commit()
        except ClaimedElsewhere:
            session.rollback()
            return sent
        except SlackFailure as failure:
            log.warning("crisis %s: %s failed: %s", crisis_id, due.kind, failure)
            session.rollback()
            session.execute(
                update(Crisis)
                .where(Crisis.id == crisis_id, Crisis.claimed_by == token)
                .values(next_check_at=now + RETRY_AFTER_FAILURE, claimed_by=None)
            )
            session.commit()
            return sent
    return sent


class ClaimedElsewhere(Exception):
    """Another sweep recorded this reminder first; it does the sending."""


def _outbox_row(
    session: Session, crisis: Crisis, due: Due, *, token: str, now: datetime
) -> Reminder:
    """The outbox row for this reminder: new, or left unsent by a sweep that died."""
    key = dict(crisis_id=crisis.id, kind=due.kind, due_at=due.at, version=crisis.version)
    reminder = session.scalars(select(Reminder).filter_by(**key)).first()
    if reminder is None:
        reminder = Reminder(
            **key, recipient=crisis.owner_id, claimed_by=token, claimed_at=now, attempts=1
        )
        session.add(reminder)
        try:
            session.flush()
        except IntegrityError:
            raise ClaimedElsewhere from None
        return reminder
    reminder.attempts += 1
    reminder.claimed_by = token
    return reminder


def _messages(
    crisis: Crisis, due: Due, *, slack: SlackPort, settings: Settings, now: datetime
) -> list[Outgoing]:
    channel = crisis.channel_id or ""
    snooze_label = f"Snooze {format_duration(settings.snooze)}"
    if due.kind in (HEADS_UP, OVERDUE):
        assert crisis.next_update_due_at is not None
        if due.kind == HEADS_UP:
            text = messages.heads_up(crisis.customer, channel, crisis.next_update_due_at)
        else:
            text = messages.overdue(
                crisis.customer, channel, crisis.next_update_due_at, crisis.nags_sent + 1
            )
        return [Outgoing("dm", crisis.owner_id, text, nag_blocks(crisis, text, snooze_label))]
    if due.kind == ESCALATION:
        assert crisis.next_update_due_at is not None
        late = now - crisis.next_update_due_at
        out = []
        if settings.escalation_channel:
            text = messages.escalation(
                crisis.customer, channel, crisis.owner_id, crisis.next_update_due_at, late
            )
            out.append(Outgoing("escalation", settings.escalation_channel, text))
        # An escalation is internal: never shown where the customer can read it.
        if channel and not slack.is_shared(channel=channel):
            out.append(Outgoing("note", channel, messages.escalation_note(late)))
        return out
    if due.kind == FOLLOW_UP:
        assert crisis.closed_at is not None
        text = messages.follow_up(crisis.customer, channel, crisis.closed_at)
        return [Outgoing("dm", crisis.owner_id, text)]
    raise ValueError(f"unknown reminder kind {due.kind}")


def _deliver(
    crisis: Crisis,
    due: Due,
    reminder: Reminder,
    *,
    slack: SlackPort,
    settings: Settings,
    now: datetime,
) -> int:
    """Post the reminder's messages; returns how many were posted (not found already there)."""
    posted = 0
    card_edit = None
    if due.kind == OVERDUE and crisis.nags_sent == 0 and crisis.channel_id and crisis.card_ts:
        # The moment it becomes overdue, the card in the channel says so too.
        blocks = crisis_card(crisis, now=now, ack_emoji=settings.ack_emoji)
        card_edit = partial(
            slack.update,
            channel=crisis.channel_id,
            ts=crisis.card_ts,
            text=card_text(crisis),
            blocks=blocks,
        )
        end_read(crisis)  # the card loaded the acknowledgements
    for message in _messages(crisis, due, slack=slack, settings=settings, now=now):
        key = f"reminder:{reminder.id}:{message.part}"
        # Only a retry after a crash can find it already there; the first try never looks.
        if reminder.attempts > 1 and slack.find_posted(
            channel=message.channel, key=key, since=reminder.claimed_at - CLAIM_LEASE
        ):
            continue
        slack.post(channel=message.channel, text=message.text, blocks=message.blocks, key=key)
        posted += 1
    if card_edit:
        card_edit()
    return posted


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
