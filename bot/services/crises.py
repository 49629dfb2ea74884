"""Declaring a crisis and finding crises."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session, selectinload

from bot import domain, messages
from bot.blocks.card import card_text, commitment_blocks, crisis_card
from bot.config import Settings
from bot.db.models import Crisis, PendingDeclaration
from bot.enums import CrisisStatus, TimelineKind
from bot.services import permissions
from bot.services.errors import CrisisError
from bot.services.naming import channel_name
from bot.services.port import Blocks, SlackFailure, SlackPort, post_once
from bot.services.requests import DeclareRequest
from bot.services.schedule import reschedule
from bot.services.scope import Scope
from bot.services.timeline import record

log = logging.getLogger(__name__)


def declare(scope: Scope, *, request: DeclareRequest) -> Crisis:
    """Store the crisis first, then open and set up its channel step by step."""
    permissions.require_team_crew(
        slack=scope.slack, owner_id=request.owner_id, responders=request.responders
    )
    crisis, new = store_declaration(scope, request=request)
    if new:
        # No reply to tell the declarer here: the owner is told by DM.
        finish_declaration(scope, crisis=crisis)
    return crisis


def store_declaration(scope: Scope, *, request: DeclareRequest) -> tuple[Crisis, bool]:
    """Record the crisis (nothing in Slack yet); (crisis, whether it is new).

    The same form delivered twice gives back the crisis the first delivery stored.
    """
    session, settings, now = scope.session, scope.settings, scope.now
    if request.kind == domain.NOT_A_CRISIS:
        raise CrisisError(messages.not_a_crisis(settings.links()))
    existing = _by_source(session, request.source_key)
    if existing is not None:
        return existing, False
    cadence = settings.cadence(request.severity)
    crisis = Crisis(
        customer=request.customer,
        kind=request.kind,
        severity=request.severity,
        experienced=request.experienced,
        expected=request.expected,
        status=CrisisStatus.DECLARING,
        declared_by=request.declared_by,
        owner_id=request.owner_id,
        responders=request.responders,
        cadence_seconds=int(cadence.total_seconds()),
        origin_channel_id=request.origin_channel_id,
        source_key=request.source_key,
        declared_at=now,
        next_update_due_at=now + cadence,
        committed_at=now,
    )
    session.add(crisis)
    record(
        session,
        crisis,
        kind=TimelineKind.DECLARED,
        at=now,
        actor_id=request.declared_by,
        detail=f"{request.severity} {request.kind}",
    )
    reschedule(crisis, settings, now)  # a crash from here on is resumed by the sweep
    try:
        session.commit()
    except IntegrityError:
        # The same form, delivered twice at once: the other delivery declares it.
        session.rollback()
        existing = _by_source(session, request.source_key)
        if existing is None:
            raise
        return existing, False
    log.info("crisis %s declared for a customer by %s", crisis.id, request.declared_by)
    return crisis, True


def _by_source(session: Session, source_key: str | None) -> Crisis | None:
    if not source_key:
        return None
    return session.scalars(select(Crisis).where(Crisis.source_key == source_key)).first()


def finish_declaration(
    scope: Scope, *, crisis: Crisis, resuming: bool = False, dm_owner: bool = True
) -> None:
    """Do each remaining set-up step once, committing after each, so a retry resumes.

    When ``resuming`` after a crash, first look in Slack for what a step may already have
    done before its result was committed, so a retry never makes a second channel or card.
    ``dm_owner=False`` when the owner declared it and the reply to the declaration tells them
    (one message instead of two, and no DM queue in a mass outage); a declaration resumed
    after a crash never had that reply, so it sends the DM.
    """
    session, slack, settings, now = scope.session, scope.slack, scope.settings, scope.now
    since = crisis.declared_at

    def once(part: str, channel: str, text: str, blocks: Blocks | None = None) -> str:
        key = f"crisis:{crisis.id}:{part}"
        look_since = since if resuming else None
        return post_once(
            slack, channel=channel, key=key, text=text, blocks=blocks, look_since=look_since
        )

    if crisis.channel_id is None:
        name = channel_name(crisis.customer, crisis.declared_at)
        adopted = _orphan_channel(session, slack, name=name, since=since) if resuming else None
        crisis.channel_id, crisis.channel_name = adopted or _create_channel(
            session, slack, name=name, since=since
        )
        session.commit()
        resuming = resuming or adopted is not None
        slack.set_topic(channel=crisis.channel_id, topic=topic(crisis, settings))
        slack.invite(channel=crisis.channel_id, users=_people(crisis))
    elif resuming and crisis.card_ts is None:
        # We may have died between creating the channel and inviting people.
        slack.set_topic(channel=crisis.channel_id, topic=topic(crisis, settings))
        slack.invite(channel=crisis.channel_id, users=_people(crisis))
    channel = crisis.channel_id
    # Tell people first: each of these goes to one shared channel (the owner's DM, the
    # announce channel), which Slack paces to a message a second, so in a mass outage they
    # keep pace with the channels being created instead of queueing up at the end.
    if (
        settings.announce_channel
        and crisis.announce_ts is None
        # Announcements name the customer; a channel shared with other companies must not.
        and not slack.is_shared(channel=settings.announce_channel)
    ):
        crisis.announce_channel_id = settings.announce_channel
        text = messages.announcement(
            crisis.customer,
            crisis.severity,
            crisis.kind,
            channel,
            crisis.owner_id,
            ack_emoji=settings.ack_emoji,
        )
        crisis.announce_ts = once("announcement", settings.announce_channel, text)
        session.commit()
    if not crisis.owner_told and dm_owner:
        tell_owner(
            session=session,
            slack=slack,
            settings=settings,
            crisis=crisis,
            since=since,
            resuming=resuming,
        )
    if crisis.card_ts is None:
        blocks = crisis_card(crisis, now=now, ack_emoji=settings.ack_emoji)
        crisis.card_ts = once("card", channel, card_text(crisis), blocks)
        session.commit()
    if crisis.commitment_ts is None:
        text, blocks = commitment_blocks(crisis, now=now)
        crisis.commitment_ts = once("commitment", channel, text, blocks)
        session.commit()
    if not crisis.commitment_pinned:
        slack.pin(channel=channel, ts=crisis.commitment_ts)
        crisis.commitment_pinned = True
        session.commit()
    crisis.status = CrisisStatus.OPEN
    if not crisis.owner_told:
        # The reply to the declarer tells them; until that is recorded, the sweep's to-do
        # says to tell them by DM, so a crash right here still never leaves them untold.
        crisis.pending_since = now
    reschedule(crisis, settings, now)
    session.commit()


def _people(crisis: Crisis) -> list[str]:
    """Who is invited to the crisis channel: the owner, the responders and the declarer."""
    return list(dict.fromkeys([crisis.owner_id, *crisis.responders, crisis.declared_by]))


def tell_owner(
    *,
    session: Session,
    slack: SlackPort,
    settings: Settings,
    crisis: Crisis,
    since: datetime,
    resuming: bool,
) -> None:
    """DM the owner what they have promised, once: ``resuming`` after a crash, look in Slack
    first for the DM a dead process may have sent."""
    assert crisis.channel_id and crisis.next_update_due_at
    key = f"crisis:{crisis.id}:owner"
    named_by = crisis.declared_by if crisis.declared_by != crisis.owner_id else None
    text = messages.owner_commitment_dm(
        crisis.customer,
        crisis.channel_id,
        crisis.next_update_due_at,
        settings.reminder_lead,
        declared_by=named_by,
    )
    post_once(
        slack, channel=crisis.owner_id, key=key, text=text, look_since=since if resuming else None
    )
    crisis.owner_told = True
    session.commit()


def _create_channel(
    session: Session, slack: SlackPort, *, name: str, since: datetime
) -> tuple[str, str]:
    """Create the crisis channel; a taken name may be ours already (Slack made it, then an
    error hid the answer and the retry was told ``name_taken``)."""
    try:
        return slack.create_channel(name=name, first=1, last=1)
    except SlackFailure as failure:
        if failure.error != "name_taken":
            raise
    return _orphan_channel(session, slack, name=name, since=since) or slack.create_channel(
        name=name, first=2
    )


def _orphan_channel(
    session: Session, slack: SlackPort, *, name: str, since: datetime
) -> tuple[str, str] | None:
    """A channel we created for this crisis before a crash kept us from recording it."""
    for channel_id, channel_name_found in slack.find_channels(name=name, since=since):
        taken = session.scalars(select(Crisis.id).where(Crisis.channel_id == channel_id)).first()
        if taken is None:
            return channel_id, channel_name_found
    return None


def topic(crisis: Crisis, settings: Settings) -> str:
    """The channel topic: customer · severity · owner · next update or closure (plain text)."""
    closed = crisis.status == CrisisStatus.CLOSED
    text = messages.channel_topic(
        crisis.customer,
        crisis.severity,
        f"<@{crisis.owner_id}>",
        due=None if closed else crisis.next_update_due_at,
        closed_at=crisis.closed_at if closed else None,
        zone=settings.zone(),
    )
    return text[: domain.MAX_TOPIC]


def refresh(
    *,
    slack: SlackPort,
    settings: Settings,
    crisis: Crisis,
    now: datetime,
    commitment: bool = True,
    channel_topic: bool = True,
) -> None:
    """Edit the card, the pinned commitment and the topic in place to match the database."""
    if not crisis.channel_id:
        return
    card = (card_text(crisis), crisis_card(crisis, now=now, ack_emoji=settings.ack_emoji))
    pinned = commitment_blocks(crisis, now=now)
    end_read(crisis)  # rendering may have loaded the acknowledgements
    if crisis.card_ts:
        slack.update(channel=crisis.channel_id, ts=crisis.card_ts, text=card[0], blocks=card[1])
    if commitment and crisis.commitment_ts:
        slack.update(
            channel=crisis.channel_id, ts=crisis.commitment_ts, text=pinned[0], blocks=pinned[1]
        )
    if channel_topic:
        slack.set_topic(channel=crisis.channel_id, topic=topic(crisis, settings))


def end_read(crisis: Crisis) -> None:
    """End the transaction a lazy load began, so neither it nor its pooled connection is held
    across the Slack calls that follow (which can wait a minute under Slack's rate limits).
    Only a read: callers commit their writes before they call Slack."""
    session = object_session(crisis)
    if session is not None and not (session.new or session.dirty or session.deleted):
        session.commit()


def by_channel(session: Session, channel_id: str) -> Crisis | None:
    """The crisis whose channel this is."""
    return session.scalars(
        select(Crisis)
        .where(Crisis.channel_id == channel_id)
        .options(selectinload(Crisis.acknowledgements))
    ).first()


def by_id(session: Session, crisis_id: int) -> Crisis | None:
    return session.get(Crisis, crisis_id, options=[selectinload(Crisis.acknowledgements)])


def by_message(session: Session, channel_id: str, ts: str) -> Crisis | None:
    """The crisis whose card or announcement this message is."""
    return session.scalars(
        select(Crisis)
        .where(
            ((Crisis.channel_id == channel_id) & (Crisis.card_ts == ts))
            | ((Crisis.announce_channel_id == channel_id) & (Crisis.announce_ts == ts))
        )
        .options(selectinload(Crisis.acknowledgements))
    ).first()


def open_for_customer(session: Session, customer: str) -> Crisis | None:
    """An open (or being declared) crisis for this customer, names compared ignoring case and
    surrounding spaces. (SQLite folds only ASCII letters; PostgreSQL folds them all.)"""
    name = customer.strip().lower()
    return session.scalars(
        select(Crisis)
        .where(Crisis.status.in_((CrisisStatus.OPEN, CrisisStatus.DECLARING)))
        .where(func.lower(func.trim(Crisis.customer)) == name)
        .order_by(Crisis.declared_at.desc(), Crisis.id.desc())
    ).first()


def hold_declaration(
    scope: Scope, *, request: DeclareRequest, existing: Crisis
) -> PendingDeclaration:
    """Keep a declaration until its declarer says to open a second crisis for the customer."""
    session, now = scope.session, scope.now
    pending = PendingDeclaration(
        declared_by=request.declared_by,
        request=request.model_dump(mode="json", exclude={"source_key"}),
        existing_crisis_id=existing.id,
        held_at=now,
    )
    session.add(pending)
    session.commit()
    return pending


def held_declaration(session: Session, *, pending_id: int, user_id: str) -> DeclareRequest:
    """The declaration held as ``pending_id``, to declare anyway; only its declarer may.

    Its source key makes the declaration happen once however often the button is pressed;
    pressed again once it is declared, the answer says where it is.
    """
    pending = session.get(PendingDeclaration, pending_id)
    if pending is None or pending.declared_by != user_id:
        raise CrisisError(messages.held_declaration_gone())
    source_key = f"pending:{pending.id}"
    declared = _by_source(session, source_key)
    if declared is not None:
        raise CrisisError(messages.already_declared_anyway(declared.customer, declared.channel_id))
    return DeclareRequest.model_validate({**pending.request, "source_key": source_key})


def list_open(session: Session, *, limit: int = 50, involving: str | None = None) -> list[Crisis]:
    """Open crises by when their next update is due: the overdue ones come first; with
    ``involving``, only those that user owns or responds to."""
    query = (
        select(Crisis)
        .where(Crisis.status.in_((CrisisStatus.OPEN, CrisisStatus.DECLARING)))
        .order_by(Crisis.next_update_due_at, Crisis.id)
    )
    if involving is None:
        return list(session.scalars(query.limit(limit)))
    # Responders are a JSON list: filtered here, not in SQL, the same on SQLite and PostgreSQL.
    found = []
    for crisis in session.scalars(query):
        if crisis.owner_id == involving or involving in crisis.responders:
            found.append(crisis)
            if len(found) == limit:
                break
    return found
