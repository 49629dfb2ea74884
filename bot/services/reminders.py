"""Reminders due, sent exactly once, even across crashes and replicas: the services the
sweep's pipeline (``scheduler/senders.py``) is made of.

1. ``claim_due``: the due crises, in due order, are claimed with this process's token and
   hidden from other sweeps for a short lease, which the process's heartbeat renews while the
   work is alive (``bot/services/leases.py``; PostgreSQL skips rows another replica has locked).
2. ``send_next``: for one claimed crisis, renew the lease, record the reminder it owes in
   ``reminders`` (the outbox) and commit, then send it with the reminder's key in the message
   metadata.
3. ``record_sent``: mark many sent reminders sent and move their crises on, in one transaction.

A process that dies between 2 and 3 leaves an unsent outbox row. When its lease runs out (it
is no longer renewed), the next sweep finds that row, asks Slack whether a message with its key
is already there, and sends only if not: no reminder is lost and none goes out twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from bot import messages
from bot.blocks.card import (
    card_text,
    commitment_blocks,
    crisis_card,
    escalation_blocks,
    follow_up_blocks,
    nag_blocks,
)
from bot.config import Settings
from bot.db.models import Crisis, Reminder, ReminderMessage
from bot.db.tenancy import TEAM_KEY
from bot.db.upsert import insert_or_skip
from bot.durations import format_duration
from bot.enums import ReminderKind, TimelineKind
from bot.services import ledger, workspaces
from bot.services.crises import end_read, finish_declaration
from bot.services.leases import Claims
from bot.services.lifecycle import finish_posts
from bot.services.links import talk_channel  # i15-outage: channel-less crises
from bot.services.port import Blocks, SlackFailure, SlackPort
from bot.services.schedule import Due, next_reminder
from bot.services.scope import Scope
from bot.services.telling import check_in_suggestion
from bot.services.timeline import record

log = logging.getLogger(__name__)

RETRY_AFTER_FAILURE = timedelta(seconds=60)
CLAIM_BATCH = 2000
# One tick keeps claiming while whole batches come back, up to this many.
MAX_BATCHES = 20
# Reminders that ask for the update: once it is posted, their messages say so.
ASKS_FOR_UPDATE = (ReminderKind.HEADS_UP, ReminderKind.OVERDUE, ReminderKind.ESCALATION)
# Reminders one crisis can owe at once, resumed steps included; past this, the claim is given
# back and the next sweep goes on.
MAX_AT_ONCE = 4


@dataclass(frozen=True)
class Sent:
    """A reminder that went out, for logs and tests."""

    crisis_id: int
    kind: ReminderKind
    at: datetime


@dataclass(frozen=True)
class Outgoing:
    """One message of a reminder: where it goes and what it says."""

    part: str
    channel: str
    text: str
    blocks: Blocks | None = None


def claim_due(
    session: Session,
    *,
    now: datetime,
    claims: Claims,
    lease: timedelta,
    limit: int = CLAIM_BATCH,
) -> list[int]:
    """Atomically claim up to ``limit`` crises whose next check has come, for one lease; their
    ids in the order they fell due, the order their reminders should go out in. Each is held
    in ``claims`` (its lease renewed) until the pipeline is done with it."""
    due = list(
        session.scalars(
            select(Crisis.id)
            .where(Crisis.next_check_at.is_not(None), Crisis.next_check_at <= now)
            # An uninstalled workspace's reminders stop (its crises stay, untouched).
            .where(Crisis.team_id.not_in(workspaces.stopped()))
            .order_by(Crisis.next_check_at, Crisis.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if not due:
        session.rollback()
        return []
    until = now + lease
    # Checked again as it is claimed: on SQLite another sweep may have claimed some since.
    session.execute(
        update(Crisis)
        .where(Crisis.id.in_(due), Crisis.next_check_at <= now)
        .values(next_check_at=until, claimed_by=claims.token)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    claimed = set(
        session.scalars(
            select(Crisis.id).where(
                Crisis.id.in_(due), Crisis.claimed_by == claims.token, Crisis.next_check_at == until
            )
        )
    )
    session.rollback()
    # Already under way in this process (its lease lapsed under load): that work goes on.
    return [crisis_id for crisis_id in due if crisis_id in claimed and claims.take(crisis_id)]


@dataclass(frozen=True)
class Posted:
    """A reminder that is in Slack (sent now, or found there) and still to be recorded."""

    crisis_id: int
    token: str
    due: Due
    reminder_id: int
    version: int
    at: datetime
    # (channel, ts) of each message that asks for the update, edited once it is posted.
    messages: tuple[tuple[str, str], ...] = ()
    team_id: str = ""


def send_next(
    session: Session,
    *,
    slack: SlackPort,
    settings: Settings,
    crisis_id: int,
    now: datetime,
    claims: Claims,
    clock: Callable[[], datetime],
    slack_for: Callable[[str], SlackPort] | None = None,
) -> Posted | None:
    """Send the crisis's next due reminder (or finish its half-done declaration or posts);
    None when nothing more is due (claim released), the claim is no longer ours, or Slack
    failed (retried later)."""
    token = claims.token
    for _ in range(MAX_AT_ONCE):
        # Renew the lease and read the crisis in one statement, only if the claim is still
        # ours: another sweep that took over after it ran out does the sending. Until the
        # commit below, the outbox row and the lease go together.
        crisis = session.scalars(
            update(Crisis)
            .where(Crisis.id == crisis_id, Crisis.claimed_by == token)
            .values(next_check_at=clock() + settings.lease)
            .returning(Crisis)
            .execution_options(synchronize_session=False, populate_existing=True)
        ).one_or_none()
        if crisis is None:
            session.rollback()
            return None
        # From here the work is the crisis's workspace's: its token, only its rows.
        session.info[TEAM_KEY] = crisis.team_id
        if slack_for is not None:
            slack = slack_for(crisis.team_id)
        due = next_reminder(crisis, settings, now)
        if due is None or due.at > now:
            crisis.next_check_at = due.at if due else None
            _let_go(crisis, claims)
            session.commit()
            return None
        try:
            if due.kind in (ReminderKind.FINISH_POSTS, ReminderKind.FINISH_DECLARE):
                session.commit()  # never hold a transaction open across a Slack call
                scope = Scope(
                    session=session,
                    slack=slack,
                    settings=settings,
                    now=now,
                    team_id=crisis.team_id,
                    claims=claims,
                )
                if due.kind == ReminderKind.FINISH_POSTS:
                    finish_posts(scope, crisis=crisis)
                else:
                    finish_declaration(scope, crisis=crisis, resuming=True)
                continue
            outbox = _outbox_row(session, crisis, due, token=token, now=now)
            session.commit()  # never hold a transaction open across a Slack call
            posted = Posted(
                crisis_id, token, due, outbox.id, crisis.version, now, team_id=crisis.team_id
            )
            if outbox.sent:
                return posted  # sent and recorded, but the crisis was not moved on
            count, where = _deliver(crisis, due, outbox, slack=slack, settings=settings, now=now)
            if count:
                log.info("crisis %s: %s sent", crisis_id, due.kind)
            else:
                log.info("crisis %s: %s was already in Slack", crisis_id, due.kind)
            if due.kind in ASKS_FOR_UPDATE:
                return replace(posted, messages=tuple(where))
            return posted
        except SlackFailure as failure:
            log.warning("crisis %s: %s failed: %s", crisis_id, due.kind, failure)
            session.rollback()
            release(session, crisis_id, token, check_at=now + RETRY_AFTER_FAILURE)
            return None
    return None


def _let_go(crisis: Crisis, claims: Claims) -> None:
    """Done with the crisis: clear the claim, unless other work in this process is still on
    it (a post under way keeps it, and the heartbeat keeps renewing it)."""
    if crisis.claimed_by == claims.token and claims.count(crisis.id) <= 1:
        crisis.claimed_by = None


def release(session: Session, crisis_id: int, token: str, *, check_at: datetime) -> None:
    """Give up this sweep's claim, if it still holds it; the crisis is checked at ``check_at``."""
    session.execute(
        update(Crisis)
        .where(Crisis.id == crisis_id, Crisis.claimed_by == token)
        .values(next_check_at=check_at, claimed_by=None)
    )
    session.commit()


def record_sent(
    session: Session, batch: list[Posted], *, settings: Settings, claims: Claims
) -> list[Posted]:
    """Record reminders that are in Slack, all in one transaction, and move their crises on;
    returns those whose crisis has another reminder due already (its claim is kept)."""
    # Writing first takes SQLite's write lock, and the crises are read FOR UPDATE on
    # PostgreSQL: nothing can change them between this read and the write below.
    session.execute(update(Reminder), [{"id": p.reminder_id, "sent_at": p.at} for p in batch])
    where = [
        {"reminder_id": p.reminder_id, "channel": channel, "ts": ts, "team_id": p.team_id}
        for p in batch
        for channel, ts in p.messages
    ]
    if where:
        session.execute(insert(ReminderMessage), where)
    crises = {
        crisis.id: crisis
        for crisis in session.scalars(
            select(Crisis)
            .where(Crisis.id.in_({p.crisis_id for p in batch}))
            .order_by(Crisis.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    more = []
    for posted in batch:
        crisis = crises.get(posted.crisis_id)
        # Taken over by another sweep, or an update, hand-over or closure came in meanwhile
        # and rescheduled the crisis itself: record the send, not the state of an old one.
        if crisis is None or (crisis.claimed_by, crisis.version) != (posted.token, posted.version):
            continue
        _mark_sent(session, crisis, posted.due, settings=settings, now=posted.at)
        upcoming = next_reminder(crisis, settings, posted.at)
        if upcoming is None or upcoming.at > posted.at:
            crisis.next_check_at = upcoming.at if upcoming else None
            _let_go(crisis, claims)
        else:
            more.append(posted)
    session.commit()
    return more


@dataclass(frozen=True)
class Outbox:
    """A reminder's outbox row, as the send needs it."""

    id: int
    attempts: int
    claimed_at: datetime
    sent: bool


def _outbox_row(session: Session, crisis: Crisis, due: Due, *, token: str, now: datetime) -> Outbox:
    """The outbox row for this reminder: new, or left unsent by a sweep that died."""
    key = dict(crisis_id=crisis.id, kind=due.kind, due_at=due.at, version=crisis.version)
    new_id = session.scalar(
        insert_or_skip(session, Reminder)
        .values(
            **key,
            recipient=crisis.owner_id,
            claimed_by=token,
            claimed_at=now,
            attempts=1,
            team_id=crisis.team_id,
        )
        .returning(Reminder.id)
    )
    if new_id is not None:
        return Outbox(new_id, 1, now, sent=False)
    # The lease renewed with it keeps other sweeps off this crisis until we commit.
    reminder = session.scalars(select(Reminder).filter_by(**key)).one()
    reminder.attempts += 1
    reminder.claimed_by = token
    return Outbox(reminder.id, reminder.attempts, reminder.claimed_at, reminder.sent_at is not None)


def _messages(
    crisis: Crisis, due: Due, *, slack: SlackPort, settings: Settings, now: datetime
) -> list[Outgoing]:
    # i15-outage: an outage's account crisis has no channel of its own until split; its
    # reminders (to its CSM, as for every crisis) name the outage channel instead.
    channel = talk_channel(crisis)
    snooze_label = f"Snooze {format_duration(settings.snooze)}"
    if due.kind in (ReminderKind.HEADS_UP, ReminderKind.OVERDUE):
        assert crisis.next_update_due_at is not None
        if due.kind == ReminderKind.HEADS_UP:
            text = messages.heads_up(crisis.customer, channel, crisis.next_update_due_at)
        else:
            text = messages.overdue(
                crisis.customer, channel, crisis.next_update_due_at, crisis.nags_sent + 1
            )
        return [Outgoing("dm", crisis.owner_id, text, nag_blocks(crisis, text, snooze_label))]
    if due.kind == ReminderKind.ESCALATION:
        assert crisis.next_update_due_at is not None
        late = now - crisis.next_update_due_at
        out = []
        if settings.escalation_channel:
            text = messages.escalation(
                crisis.customer, channel, crisis.owner_id, crisis.next_update_due_at, late
            )
            blocks = escalation_blocks(crisis, text)
            out.append(Outgoing("escalation", settings.escalation_channel, text, blocks))
        # An escalation is internal: never shown where the customer can read it.
        if channel and not slack.is_shared(channel=channel):
            note = messages.escalation_note(late, settings.escalation_channel)
            out.append(Outgoing("note", channel, note, escalation_blocks(crisis, note)))
        # The owner hears where it went, so they know who is now looking.
        places = [message.channel for message in out]
        text = messages.escalated_owner_dm(
            crisis.customer, channel, crisis.next_update_due_at, late, places
        )
        out.append(Outgoing("dm", crisis.owner_id, text))
        return out
    if due.kind == ReminderKind.FOLLOW_UP:
        assert crisis.closed_at is not None
        text = messages.follow_up(crisis.customer, channel, crisis.closed_at)
        check_in = check_in_suggestion(crisis, templates_dir=settings.templates_dir)
        return [Outgoing("dm", crisis.owner_id, text, follow_up_blocks(crisis, text, check_in))]
    raise ValueError(f"unknown reminder kind {due.kind}")


def _deliver(
    crisis: Crisis,
    due: Due,
    reminder: Outbox,
    *,
    slack: SlackPort,
    settings: Settings,
    now: datetime,
) -> tuple[int, list[tuple[str, str]]]:
    """Post the reminder's messages; how many were posted (not found already there), and
    where each one is, (channel, ts)."""
    posted = 0
    where: list[tuple[str, str]] = []
    edits: list[Callable[[], None]] = []
    if due.kind == ReminderKind.OVERDUE and crisis.nags_sent == 0 and crisis.channel_id:
        # The moment it becomes overdue, the card and the pinned commitment say so too.
        # Edits set the whole message, so a retry after a crash repeats them harmlessly.
        if crisis.card_ts:
            blocks = crisis_card(
                crisis, now=now, ack_emoji=settings.ack_emoji, promises=ledger.tally_of(crisis)
            )
            end_read(crisis)  # never hold the read's transaction across the Slack calls
            edits.append(
                partial(
                    slack.update,
                    channel=crisis.channel_id,
                    ts=crisis.card_ts,
                    text=card_text(crisis),
                    blocks=blocks,
                )
            )
        if crisis.commitment_ts:
            text, pinned = commitment_blocks(crisis, now=now)
            edits.append(
                partial(
                    slack.update,
                    channel=crisis.channel_id,
                    ts=crisis.commitment_ts,
                    text=text,
                    blocks=pinned,
                )
            )
        end_read(crisis)  # the card loaded the acknowledgements
    for message in _messages(crisis, due, slack=slack, settings=settings, now=now):
        key = f"reminder:{reminder.id}:{message.part}"
        # Only a retry after a crash can find it already there; the first try never looks.
        found = None
        if reminder.attempts > 1:
            found = slack.find_posted(
                channel=message.channel, key=key, since=reminder.claimed_at - settings.lease
            )
        if found:
            where.append((message.channel, found))
            continue
        ts = slack.post(channel=message.channel, text=message.text, blocks=message.blocks, key=key)
        where.append((message.channel, ts))
        posted += 1
    for edit in edits:
        edit()
    return posted, where


def _mark_sent(
    session: Session, crisis: Crisis, due: Due, *, settings: Settings, now: datetime
) -> None:
    if due.kind == ReminderKind.HEADS_UP:
        crisis.heads_up_sent_at = now
        record(
            session, crisis, kind=TimelineKind.HEADS_UP_SENT, at=now, detail=f"to {crisis.owner_id}"
        )
    elif due.kind == ReminderKind.OVERDUE:
        crisis.last_nag_at = now
        crisis.nags_sent += 1
        # Once overdue, a heads-up for this commitment would be pointless.
        crisis.heads_up_sent_at = crisis.heads_up_sent_at or now
        record(
            session,
            crisis,
            kind=TimelineKind.NAG_SENT,
            at=now,
            detail=f"overdue reminder {crisis.nags_sent} to {crisis.owner_id}",
        )
    elif due.kind == ReminderKind.ESCALATION:
        crisis.escalated_at = now
        record(
            session,
            crisis,
            kind=TimelineKind.ESCALATED,
            at=now,
            detail=settings.escalation_channel or "crisis channel only",
        )
    elif due.kind == ReminderKind.FOLLOW_UP:
        crisis.follow_up_sent_at = now
        record(
            session,
            crisis,
            kind=TimelineKind.FOLLOW_UP_SENT,
            at=now,
            detail=f"to {crisis.owner_id}",
        )
