"""What happens to an open crisis: acknowledgements, updates, hand-overs, snoozes, closure."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import domain, messages
from bot.blocks.card import done_blocks
from bot.config import Settings
from bot.db.models import (
    Acknowledgement,
    Crisis,
    Reminder,
    ReminderMessage,
    StatusUpdate,
    TimelineEvent,
)
from bot.durations import format_duration
from bot.enums import AckVia, CrisisKind, CrisisStatus, PromiseTold, Severity, TimelineKind
from bot.services import handled, leases, ledger, permissions
from bot.services.crises import cadence_for, end_read, owner_time_zone, refresh, tell_owner
from bot.services.errors import CrisisError
from bot.services.links import talk_channel
from bot.services.port import SlackFailure, SlackPort, post_once
from bot.services.requests import UpdateContent
from bot.services.schedule import Promise, promise, reschedule
from bot.services.scope import Scope
from bot.services.timeline import record
from bot.text import safe_marked

log = logging.getLogger(__name__)

Service = TypeVar("Service", bound=Callable[..., Any])

# Timeline lines that are also notices in Slack: stored first, then posted with a key, and
# posted by the sweep after a crash (``finish_posts``), once.
NOTICES = (TimelineKind.REOPENED, TimelineKind.OWNER_CHANGED, TimelineKind.CADENCE_CHANGED)


def _in_flight(service: Service) -> Service:
    """Keep the crisis's lease renewed while ``service`` stores and posts (rate-limit waits
    included), so no sweep finishes the work while it is still under way."""

    @functools.wraps(service)
    def run(scope: Scope, /, *, crisis: Crisis, **kwargs: Any) -> Any:
        with leases.working(scope.session, scope.claims, crisis.id):
            return service(scope, crisis=crisis, **kwargs)

    return cast(Service, run)


def _posting(scope: Scope, crisis: Crisis) -> None:
    """Something is about to be recorded that Slack must show: until it is there, the sweep's
    to-do says to finish it, one lease after this process stops renewing the claim."""
    crisis.pending_since = scope.now
    leases.claim(crisis, claims=scope.claims, now=scope.now, lease=scope.settings.lease)


def acknowledge(
    scope: Scope, *, crisis: Crisis, user_id: str, via: AckVia, event_id: str | None = None
) -> tuple[Acknowledgement, bool]:
    """Record that ``user_id`` has seen the crisis, once per person; (ack, newly recorded).
    A closed crisis has nothing left to acknowledge: that is refused and nothing recorded.
    ``event_id``: the Slack event it came from, marked handled with it."""
    session, slack, settings, now = scope.session, scope.slack, scope.settings, scope.now
    if crisis.status == CrisisStatus.CLOSED:
        raise CrisisError(messages.ack_closed())
    existing = _ack_of(session, crisis, user_id)
    if existing:
        return existing, False
    ack = Acknowledgement(user_id=user_id, at=now, via=via, team_id=crisis.team_id)
    crisis.acknowledgements.append(ack)
    if crisis.first_ack_at is None:
        crisis.first_ack_at = now
        crisis.seconds_to_first_ack = int((now - crisis.declared_at).total_seconds())
    record(session, crisis, kind=TimelineKind.ACKNOWLEDGED, at=now, actor_id=user_id, detail=via)
    handled.mark(session, event_id, at=now)
    try:
        session.commit()
    except IntegrityError:
        # The same person acknowledged twice at once (a click and a reaction), or the same
        # event was delivered twice at once.
        session.rollback()
        again = _ack_of(session, crisis, user_id)
        assert again is not None
        return again, False
    refresh(
        slack=slack,
        settings=settings,
        crisis=crisis,
        now=now,
        commitment=False,
        channel_topic=False,
    )
    return ack, True


def join_from_announcement(
    scope: Scope, *, crisis: Crisis, user_id: str, event_id: str | None = None
) -> str:
    """Acknowledge from the announcement and invite ``user_id`` into the crisis channel, where
    the work happens; returns that channel."""
    acknowledge(scope, crisis=crisis, user_id=user_id, via=AckVia.ANNOUNCEMENT, event_id=event_id)
    assert crisis.channel_id is not None
    scope.slack.invite(channel=crisis.channel_id, users=[user_id])
    return crisis.channel_id


def _ack_of(session: Session, crisis: Crisis, user_id: str) -> Acknowledgement | None:
    return session.scalars(
        select(Acknowledgement).where(
            Acknowledgement.crisis_id == crisis.id, Acknowledgement.user_id == user_id
        )
    ).first()


def post_update(
    scope: Scope,
    *,
    crisis: Crisis,
    author_id: str,
    content: UpdateContent,
    event_id: str | None = None,
) -> StatusUpdate:
    """Record a status update, renew the commitment and stop the nags, then tell the channel;
    ``event_id``: the Slack event it came from (a reaction), marked handled with it."""
    session = scope.session
    if crisis.status == CrisisStatus.CLOSED:
        raise CrisisError(messages.crisis_closed("post an update"))
    raw = content.raw().strip()
    if not raw:
        raise CrisisError(messages.update_empty())
    if content.source_ts:
        seen = session.scalars(
            select(StatusUpdate).where(
                StatusUpdate.crisis_id == crisis.id, StatusUpdate.source_ts == content.source_ts
            )
        ).first()
        if seen:
            return seen

    def said(due: datetime, zone: str | None) -> str:
        if content.quoted_author and content.source_ts:
            return messages.update_quoted(content.quoted_author, raw, author_id, due, zone)
        body = (
            safe_marked(content.text, domain.MAX_UPDATE_SHOWN)
            if content.text
            else messages.update_body(content.what_happened, content.doing, content.next_steps)
        )
        return messages.update_posted(author_id, body, due, zone)

    return renew_promise(
        scope,
        crisis=crisis,
        author_id=author_id,
        text=raw,
        said=said,
        # An update in the crisis channel tells the team: it keeps the promise as that.
        told=PromiseTold.TEAM,
        next_in=content.next_in,
        source_ts=content.source_ts,
        event_id=event_id,
    )


@_in_flight
def renew_promise(
    scope: Scope,
    *,
    crisis: Crisis,
    author_id: str,
    text: str,
    said: Callable[[datetime, str | None], str],
    told: PromiseTold,
    next_in: timedelta | None = None,
    source_ts: str | None = None,
    event_id: str | None = None,
) -> StatusUpdate:
    """What every update does, whoever wrote it and wherever it went (``told``: the team, the
    customer): record it, keep the promise in the ledger and make the next one from the
    cadence, renew the pinned commitment, tell the crisis channel ``said(due, zone)`` and settle
    the reminders that asked for it."""
    session, slack, settings, now = scope.session, scope.slack, scope.settings, scope.now
    promised = promise(
        now=now,
        cadence=next_in or timedelta(seconds=crisis.cadence_seconds),
        severity=crisis.severity,
        account=crisis.account,
    )
    due = promised.at
    status_update = StatusUpdate(
        team_id=crisis.team_id,
        author_id=author_id,
        text=text,
        posted_at=now,
        next_update_due_at=due,
        source_ts=source_ts,
    )
    crisis.updates.append(status_update)
    _posting(scope, crisis)  # until it is in Slack; if we die first, the sweep posts it
    # The promise just kept is kept as told the team or the customer, then the next is made.
    ledger.renew(scope, crisis=crisis, promised=promised, told=told)
    record(session, crisis, kind=TimelineKind.UPDATE, at=now, actor_id=author_id, detail=text)
    handled.mark(session, event_id, at=now)
    try:
        session.commit()
    except IntegrityError:
        if event_id is None:
            raise
        # The same event delivered twice at once: the other delivery stored it.
        session.rollback()
        return session.scalars(
            select(StatusUpdate).where(
                StatusUpdate.crisis_id == crisis.id, StatusUpdate.source_ts == source_ts
            )
        ).one()

    if crisis.channel_id is None:
        # An account's crisis in an outage, not split off: no channel of its own to tell
        # (the outage channel carries the broadcast); "" records that there is nothing to post.
        status_update.message_ts = ""
    else:
        status_update.message_ts = slack.post(
            channel=crisis.channel_id, text=said(due, promised.zone), key=update_key(status_update)
        )
    session.commit()
    refresh(slack=slack, settings=settings, crisis=crisis, now=now)
    _done(session, settings, crisis, now)
    settle_reminders(session=session, slack=slack, crisis=crisis, status_update=status_update)
    return status_update


def settle_reminders(
    *, session: Session, slack: SlackPort, crisis: Crisis, status_update: StatusUpdate
) -> None:
    """Edit every reminder still asking for an update (heads-up, overdue DMs, escalation) to
    say it was posted, without its buttons.

    Each message is claimed in the database first (one statement, committed before any Slack
    call), so two updates close together edit it once; a failed edit only leaves its buttons.
    """
    claimed = session.execute(
        update(ReminderMessage)
        .where(
            ReminderMessage.done_at.is_(None),
            ReminderMessage.reminder_id.in_(
                select(Reminder.id).where(Reminder.crisis_id == crisis.id)
            ),
        )
        .values(done_at=status_update.posted_at)
        .returning(ReminderMessage.channel, ReminderMessage.ts)
        .execution_options(synchronize_session=False)
    ).all()
    session.commit()
    if not claimed:
        return
    text = messages.reminder_done(
        crisis.customer, talk_channel(crisis), status_update.author_id, status_update.posted_at
    )
    for channel, ts in claimed:
        try:
            slack.update(channel=channel, ts=ts, text=text, blocks=done_blocks(text))
        except SlackFailure as failure:
            log.warning("crisis %s: could not mark a reminder done: %s", crisis.id, failure)


def update_key(status_update: StatusUpdate) -> str:
    """The metadata key that finds this update's message in Slack after a crash."""
    return f"update:{status_update.id}"


def closure_key(crisis: Crisis) -> str:
    return f"closure:{crisis.id}:{crisis.version}"


def notice_key(event: TimelineEvent, part: str) -> str:
    """The metadata key of one message of a notice (``channel``, or a DM: ``new_owner``,
    ``old_owner``), to find it in Slack after a crash."""
    return f"notice:{event.id}:{part}"


def post_notice(
    scope: Scope, *, crisis: Crisis, event: TimelineEvent, resuming: bool = False
) -> None:
    """Post the notice a stored timeline line stands for (the channel message and, for a
    hand-over, the DMs), each with its key, then record it posted. ``resuming`` after a crash,
    look in Slack first for each message a dead process may have posted."""
    assert crisis.channel_id is not None
    look_since = event.at if resuming else None
    posted = ""
    for part, channel, text in _notice_messages(crisis, event):
        key = notice_key(event, part)
        if part == "channel":
            ts = post_once(scope.slack, channel=channel, key=key, text=text, look_since=look_since)
        else:
            found = (
                scope.slack.find_posted(channel=channel, key=key, since=event.at)
                if resuming
                else None
            )
            ts = found or scope.slack.dm(user=channel, text=text, key=key)
        posted = posted or ts
    event.notice_ts = posted
    scope.session.commit()


def _notice_messages(crisis: Crisis, event: TimelineEvent) -> list[tuple[str, str, str]]:
    """(part, channel, text) of each message of the notice, from the line and the crisis."""
    assert crisis.channel_id is not None
    channel, actor = crisis.channel_id, event.actor_id or crisis.owner_id
    if event.kind == TimelineKind.REOPENED:
        assert crisis.next_update_due_at is not None
        text = messages.reopened(
            actor, crisis.next_update_due_at, event.detail, crisis.promised_in_zone
        )
        return [("channel", channel, text)]
    if event.kind == TimelineKind.CADENCE_CHANGED:
        every = timedelta(seconds=crisis.cadence_seconds)
        text = messages.cadence_changed(actor, every, crisis.next_update_due_at)
        return [("channel", channel, text)]
    old_owner, new_owner = event.detail.split(" -> ")
    said = (
        messages.taken_over(old_owner, new_owner)
        if actor == new_owner
        else messages.handed_over(old_owner, new_owner)
    )
    out = [("channel", channel, said)]
    if actor != new_owner:  # who took it over is told in the reply to their click
        dm = messages.new_owner_dm(crisis.customer, channel, old_owner, crisis.next_update_due_at)
        out.append(("new_owner", new_owner, dm))
    out.append(("old_owner", old_owner, messages.old_owner_dm(crisis.customer, channel, new_owner)))
    return out


def _done(session: Session, settings: Settings, crisis: Crisis, now: datetime) -> None:
    """Clear the sweep's to-do once everything recorded is in Slack.

    Decided by the database, not this session's view: another update may have been recorded
    meanwhile (or died halfway), and then the sweep still has work.
    """
    session.flush()  # our own writes (a message ts) count in the check below
    unposted = exists().where(
        StatusUpdate.crisis_id == Crisis.id, StatusUpdate.message_ts.is_(None)
    )
    unposted_notice = exists().where(
        TimelineEvent.crisis_id == Crisis.id,
        TimelineEvent.kind.in_(NOTICES),
        TimelineEvent.notice_ts.is_(None),
    )
    session.execute(
        update(Crisis)
        .where(
            Crisis.id == crisis.id,
            ~unposted,
            ~unposted_notice,
            or_(Crisis.status != CrisisStatus.CLOSED, Crisis.closure_ts.is_not(None)),
            Crisis.owner_told.is_(True),
        )
        .values(pending_since=None)
        .execution_options(synchronize_session=False)
    )
    session.refresh(crisis)
    reschedule(crisis, settings, now)
    session.commit()


@_in_flight
def finish_posts(scope: Scope, *, crisis: Crisis) -> None:
    """After a crash: post the recorded updates, closure and notices (reopened, handed over,
    cadence) Slack has not got, once each, and tell an owner who never got the reply to
    their declaration."""
    session, slack, settings, now = scope.session, scope.slack, scope.settings, scope.now
    assert crisis.channel_id is not None
    since = crisis.pending_since or crisis.declared_at
    if not crisis.owner_told:
        tell_owner(
            session=session,
            slack=slack,
            settings=settings,
            crisis=crisis,
            since=crisis.declared_at,
            resuming=True,
        )
    unposted = [u for u in crisis.updates if u.message_ts is None]
    closing = crisis.status == CrisisStatus.CLOSED and crisis.closure_ts is None
    closure_text = _closure_text(crisis) if closing else ""
    end_read(crisis)
    for status_update in unposted:
        text = messages.update_posted(
            status_update.author_id,
            safe_marked(status_update.text, domain.MAX_UPDATE_SHOWN),
            status_update.next_update_due_at,
            status_update.promised_in_zone,
        )
        status_update.message_ts = post_once(
            slack,
            channel=crisis.channel_id,
            key=update_key(status_update),
            text=text,
            look_since=since,
        )
        session.commit()
    if closing:
        crisis.closure_ts = post_once(
            slack,
            channel=crisis.channel_id,
            key=closure_key(crisis),
            text=closure_text,
            look_since=since,
        )
        session.commit()
    notices = session.scalars(
        select(TimelineEvent)
        .where(
            TimelineEvent.crisis_id == crisis.id,
            TimelineEvent.kind.in_(NOTICES),
            TimelineEvent.notice_ts.is_(None),
        )
        .order_by(TimelineEvent.id)
    ).all()
    for event in notices:
        if event.kind == TimelineKind.OWNER_CHANGED:
            slack.invite(channel=crisis.channel_id, users=[crisis.owner_id])
        post_notice(scope, crisis=crisis, event=event, resuming=True)
    refresh(slack=slack, settings=settings, crisis=crisis, now=now)
    _done(session, settings, crisis, now)
    if unposted:
        settle_reminders(session=session, slack=slack, crisis=crisis, status_update=unposted[-1])


def owner_told_by_reply(scope: Scope, *, crisis: Crisis) -> None:
    """The declarer who owns the crisis has had the reply: the sweep need not DM them."""
    session, settings, now = scope.session, scope.settings, scope.now
    crisis.owner_told = True
    _done(session, settings, crisis, now)


def _closure_text(crisis: Crisis) -> str:
    closer = next(
        (e.actor_id for e in reversed(crisis.timeline) if e.kind == TimelineKind.CLOSED), None
    )
    return messages.closure(
        crisis.resolution or "",
        crisis.follow_ups or "",
        crisis.customer_confirmed,
        closer or crisis.owner_id,
        customer=crisis.customer,
        owner_id=crisis.owner_id,
        follow_up_at=crisis.follow_up_due_at,
    )


@_in_flight
def close(
    scope: Scope,
    *,
    crisis: Crisis,
    actor_id: str,
    resolution: str,
    follow_ups: str = "",
    confirmed: bool | None = None,
    prevention: str = "",
) -> datetime:
    """Close the crisis, stop every nag and schedule the follow-up; returns the follow-up time.

    ``prevention`` answers "What will we change so this doesn't happen again?" (the report
    shows it); left empty, an answer given at an earlier closure stays."""
    session, slack, settings, now = scope.session, scope.slack, scope.settings, scope.now
    if crisis.status == CrisisStatus.CLOSED:
        raise CrisisError(messages.already_closed())
    if not resolution.strip():
        raise CrisisError(messages.close_needs_resolution())
    crisis.status = CrisisStatus.CLOSED
    crisis.closed_at = now
    crisis.seconds_to_resolve = int((now - crisis.declared_at).total_seconds())
    crisis.resolution = resolution.strip()
    crisis.follow_ups = follow_ups.strip()
    if prevention.strip():
        crisis.prevention = prevention.strip()
    crisis.customer_confirmed = confirmed
    crisis.follow_up_due_at = now + settings.follow_up
    crisis.follow_up_sent_at = None
    crisis.version += 1
    crisis.closure_ts = None
    _posting(scope, crisis)
    ledger.end_at_closure(session, crisis=crisis, at=now)
    reschedule(crisis, settings, now)
    record(session, crisis, kind=TimelineKind.CLOSED, at=now, actor_id=actor_id, detail=resolution)
    session.commit()

    if crisis.channel_id is None:
        # An outage's account crisis without a channel: the outage channel says it closed.
        crisis.closure_ts = ""
        session.commit()
        _done(session, settings, crisis, now)
        return crisis.follow_up_due_at
    crisis.closure_ts = slack.post(
        channel=crisis.channel_id,
        text=messages.closure(
            crisis.resolution,
            crisis.follow_ups,
            confirmed,
            actor_id,
            customer=crisis.customer,
            owner_id=crisis.owner_id,
            follow_up_at=crisis.follow_up_due_at,
        ),
        key=closure_key(crisis),
    )
    session.commit()
    refresh(slack=slack, settings=settings, crisis=crisis, now=now)
    _done(session, settings, crisis, now)
    return crisis.follow_up_due_at


@_in_flight
def reopen(scope: Scope, *, crisis: Crisis, actor_id: str, reason: str = "") -> Promise:
    """Reopen a closed crisis and restart the clock; returns the new promise."""
    session, slack, settings, now = scope.session, scope.slack, scope.settings, scope.now
    if crisis.status != CrisisStatus.CLOSED:
        raise CrisisError(messages.crisis_already_open())
    _posting(scope, crisis)  # the sweep repairs a crash
    crisis.status = CrisisStatus.OPEN
    crisis.closed_at = None
    crisis.follow_up_due_at = None
    promised = promise(
        now=now,
        cadence=timedelta(seconds=crisis.cadence_seconds),
        severity=crisis.severity,
        account=crisis.account,
    )
    ledger.renew(scope, crisis=crisis, promised=promised, told=PromiseTold.TEAM)
    event = record(
        session,
        crisis,
        kind=TimelineKind.REOPENED,
        at=now,
        actor_id=actor_id,
        detail=reason.strip(),
    )
    session.commit()
    post_notice(scope, crisis=crisis, event=event)
    refresh(slack=slack, settings=settings, crisis=crisis, now=now)
    _done(session, settings, crisis, now)
    return promised


@_in_flight
def hand_over(scope: Scope, *, crisis: Crisis, actor_id: str, new_owner_id: str) -> None:
    """Move ownership, and with it the nags, to ``new_owner_id``; tell both."""
    session, slack, settings, now = scope.session, scope.slack, scope.settings, scope.now
    if crisis.status == CrisisStatus.CLOSED:
        raise CrisisError(messages.crisis_closed("hand it over"))
    if new_owner_id == crisis.owner_id:
        raise CrisisError(messages.already_owner(new_owner_id))
    permissions.require_teammates(slack=slack, user_ids=[new_owner_id], role="own")
    # Looked up before anything is written (the check above has it cached): their hours
    # decide when the sev3 and sev4 reminders reach them.
    zone = owner_time_zone(slack, new_owner_id)
    _posting(scope, crisis)  # the sweep repairs a crash
    old_owner = crisis.owner_id
    crisis.owner_id = new_owner_id
    crisis.owner_timezone = zone
    crisis.version += 1
    reschedule(crisis, settings, now)
    event = record(
        session,
        crisis,
        kind=TimelineKind.OWNER_CHANGED,
        at=now,
        actor_id=actor_id,
        detail=f"{old_owner} -> {new_owner_id}",
    )
    session.commit()
    assert crisis.channel_id is not None
    slack.invite(channel=crisis.channel_id, users=[new_owner_id])
    post_notice(scope, crisis=crisis, event=event)
    refresh(slack=slack, settings=settings, crisis=crisis, now=now, commitment=False)
    _done(session, settings, crisis, now)


@_in_flight
def add_responders(
    scope: Scope, *, crisis: Crisis, actor_id: str, user_ids: list[str]
) -> list[str]:
    """Make ``user_ids`` responders and invite them (a DM tells those the invite missed);
    returns who was added. Refuses when nobody is new."""
    session, slack, settings, now = scope.session, scope.slack, scope.settings, scope.now
    if crisis.status == CrisisStatus.CLOSED:
        raise CrisisError(messages.crisis_closed("add responders"))
    known = [u for u in user_ids if u == crisis.owner_id or u in crisis.responders]
    added = [u for u in user_ids if u not in known]
    if not added:
        raise CrisisError(messages.already_responders(known, crisis.owner_id))
    if len(crisis.responders) + len(added) > domain.MAX_RESPONDERS:
        raise CrisisError(messages.too_many_responders(domain.MAX_RESPONDERS))
    permissions.require_teammates(slack=slack, user_ids=added, role="respond")
    _posting(scope, crisis)  # the sweep repairs a crash (the card)
    crisis.responders = [*crisis.responders, *added]  # a new list: JSON columns track assignment
    record(
        session,
        crisis,
        kind=TimelineKind.RESPONDER_ADDED,
        at=now,
        actor_id=actor_id,
        detail=",".join(added),
    )
    session.commit()
    assert crisis.channel_id is not None
    missed = slack.invite(channel=crisis.channel_id, users=added)
    slack.post(channel=crisis.channel_id, text=messages.responders_added(actor_id, added))
    for user in missed:
        _tell(
            slack,
            user,
            messages.added_but_not_invited(crisis.customer, crisis.channel_id, actor_id),
        )
    refresh(
        slack=slack,
        settings=settings,
        crisis=crisis,
        now=now,
        commitment=False,
        channel_topic=False,
    )
    _done(session, settings, crisis, now)
    return added


@_in_flight
def remove_responders(scope: Scope, *, crisis: Crisis, actor_id: str, user_ids: list[str]) -> None:
    """Take ``user_ids`` off the responders and tell them; all must be responders."""
    session, slack, settings, now = scope.session, scope.slack, scope.settings, scope.now
    if crisis.owner_id in user_ids:
        raise CrisisError(messages.cannot_remove_owner(crisis.owner_id))
    strangers = [u for u in user_ids if u not in crisis.responders]
    if strangers:
        raise CrisisError(messages.not_responders(strangers, crisis.responders))
    _posting(scope, crisis)  # the sweep repairs a crash (the card)
    crisis.responders = [u for u in crisis.responders if u not in user_ids]
    record(
        session,
        crisis,
        kind=TimelineKind.RESPONDER_REMOVED,
        at=now,
        actor_id=actor_id,
        detail=",".join(user_ids),
    )
    session.commit()
    assert crisis.channel_id is not None
    slack.post(channel=crisis.channel_id, text=messages.responders_removed(actor_id, user_ids))
    for user in user_ids:
        _tell(slack, user, messages.removed_dm(crisis.customer, crisis.channel_id, actor_id))
    refresh(
        slack=slack,
        settings=settings,
        crisis=crisis,
        now=now,
        commitment=False,
        channel_topic=False,
    )
    _done(session, settings, crisis, now)


def _tell(slack: SlackPort, user: str, text: str) -> None:
    """A courtesy DM: its failure is logged, and never undoes what is recorded and posted."""
    try:
        slack.dm(user=user, text=text)
    except SlackFailure as failure:
        log.warning("could not tell %s: %s", user, failure)


@_in_flight
def set_severity(scope: Scope, *, crisis: Crisis, actor_id: str, severity: Severity) -> None:
    """Change the severity, and with it the cadence of the promises still to be made; the
    update already promised to the customer keeps its time."""
    session, slack, settings, now = scope.session, scope.slack, scope.settings, scope.now
    if crisis.status == CrisisStatus.CLOSED:
        raise CrisisError(messages.crisis_closed("change its severity"))
    if severity == crisis.severity:
        raise CrisisError(messages.same_severity(severity))
    old = crisis.severity
    every = cadence_for(settings, severity, crisis.account)
    _posting(scope, crisis)  # the sweep repairs a crash (card and topic)
    crisis.severity = severity
    crisis.cadence_seconds = int(every.total_seconds())
    record(
        session,
        crisis,
        kind=TimelineKind.SEVERITY_CHANGED,
        at=now,
        actor_id=actor_id,
        detail=f"{old} -> {severity}",
    )
    session.commit()
    assert crisis.channel_id is not None
    slack.post(
        channel=crisis.channel_id,
        text=messages.severity_changed(actor_id, severity, every, crisis.next_update_due_at),
    )
    refresh(slack=slack, settings=settings, crisis=crisis, now=now, commitment=False)
    _done(session, settings, crisis, now)


@_in_flight
def set_kind(scope: Scope, *, crisis: Crisis, actor_id: str, kind: CrisisKind) -> None:
    """Change the kind of crisis (triage after the fact); the card follows."""
    session, slack, settings, now = scope.session, scope.slack, scope.settings, scope.now
    if kind == crisis.kind:
        raise CrisisError(messages.same_kind(kind))
    old = crisis.kind
    _posting(scope, crisis)  # the sweep repairs a crash (the card)
    crisis.kind = kind
    record(
        session,
        crisis,
        kind=TimelineKind.KIND_CHANGED,
        at=now,
        actor_id=actor_id,
        detail=f"{old} -> {kind}",
    )
    session.commit()
    assert crisis.channel_id is not None
    slack.post(channel=crisis.channel_id, text=messages.kind_changed(actor_id, kind))
    refresh(
        slack=slack,
        settings=settings,
        crisis=crisis,
        now=now,
        commitment=False,
        channel_topic=False,
    )
    _done(session, settings, crisis, now)


@_in_flight
def set_cadence(
    scope: Scope, *, crisis: Crisis, actor_id: str, every: timedelta
) -> datetime | None:
    """Promise updates every ``every`` from the next update on; returns the promise already
    made, which stays as it is: the customer was told that time, and only an update that
    says when the next one comes moves it."""
    session, settings, now = scope.session, scope.settings, scope.now
    if crisis.status == CrisisStatus.CLOSED:
        raise CrisisError(messages.crisis_closed("change the update cadence"))
    _posting(scope, crisis)  # the sweep repairs a crash (the notice)
    crisis.cadence_seconds = int(every.total_seconds())
    event = record(
        session,
        crisis,
        kind=TimelineKind.CADENCE_CHANGED,
        at=now,
        actor_id=actor_id,
        detail=format_duration(every),
    )
    session.commit()
    due = crisis.next_update_due_at
    post_notice(scope, crisis=crisis, event=event)
    _done(session, settings, crisis, now)
    return due


def check_in(scope: Scope, *, crisis: Crisis, actor_id: str) -> tuple[datetime, bool]:
    """Record that the owner checked in with the customer after closure, once per closure;
    (when it was recorded, whether just now)."""
    session, now = scope.session, scope.now
    since = crisis.closed_at or crisis.declared_at
    earlier = session.scalars(
        select(TimelineEvent)
        .where(
            TimelineEvent.crisis_id == crisis.id,
            TimelineEvent.kind == TimelineKind.CHECKED_IN,
            TimelineEvent.at >= since,
        )
        .order_by(TimelineEvent.id)
    ).first()
    if earlier is not None:
        return earlier.at, False
    record(session, crisis, kind=TimelineKind.CHECKED_IN, at=now, actor_id=actor_id)
    session.commit()
    return now, True


def snooze(scope: Scope, *, crisis: Crisis, actor_id: str) -> datetime:
    """Hold overdue reminders for the snooze period; the card still shows the update overdue."""
    session, settings, now = scope.session, scope.settings, scope.now
    if crisis.status == CrisisStatus.CLOSED:
        raise CrisisError(messages.crisis_closed("snooze its reminders"))
    until = now + settings.snooze
    crisis.snoozed_until = until
    reschedule(crisis, settings, now)
    record(
        session,
        crisis,
        kind=TimelineKind.SNOOZED,
        at=now,
        actor_id=actor_id,
        detail=f"until {until.isoformat()}",
    )
    session.commit()
    return until
