"""Declaring a crisis and finding crises."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session, selectinload

from bot import domain, messages
from bot.blocks.card import card_text, commitment_blocks, crisis_card
from bot.config import Settings
from bot.db.models import Account, Crisis, PendingDeclaration
from bot.enums import CrisisStatus, Severity, TimelineKind
from bot.services import accounts, leases, ledger, permissions
from bot.services.errors import CrisisError
from bot.services.naming import channel_name
from bot.services.port import Blocks, SlackFailure, SlackPort, post_once
from bot.services.requests import DeclareRequest, declare_request
from bot.services.schedule import promise, reschedule
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
        raise CrisisError(messages.not_a_crisis(settings.self_service_links))
    existing = _by_source(session, request.source_key)
    if existing is not None:
        return existing, False
    account = session.get(Account, request.account_id) if request.account_id else None
    cadence = cadence_for(settings, request.severity, account)
    crisis = Crisis(
        team_id=scope.team_id,
        customer=request.customer,
        account_id=account.id if account else None,
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
        committed_at=now,
    )
    promised = promise(now=now, cadence=cadence, severity=request.severity, account=account)
    crisis.next_update_due_at, crisis.promised_in_zone = promised.at, promised.zone
    session.add(crisis)
    ledger.make(session, crisis=crisis, at=now, due=promised.at)  # the first promise
    record(
        session,
        crisis,
        kind=TimelineKind.DECLARED,
        at=now,
        actor_id=request.declared_by,
        detail=f"{request.severity} {request.kind}",
    )
    reschedule(crisis, settings, now)  # a crash from here on is resumed by the sweep
    # ... one lease from now, unless this process's heartbeat renews it while it declares.
    leases.claim(crisis, claims=scope.claims, now=now, lease=settings.lease)
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


def cadence_for(settings: Settings, severity: Severity, account: Account | None) -> timedelta:
    """How often the customer is promised an update: as their contract says for the
    severity, else the severity's default."""
    contracted = account.contracted_cadence(severity) if account else None
    return timedelta(seconds=contracted) if contracted else settings.cadence(severity)


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
    # Its lease is renewed while the steps run, rate-limit waits included.
    with leases.working(scope.session, scope.claims, crisis.id):
        _finish_declaration(scope, crisis=crisis, resuming=resuming, dm_owner=dm_owner)


def _finish_declaration(scope: Scope, *, crisis: Crisis, resuming: bool, dm_owner: bool) -> None:
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
    if crisis.owner_timezone is None:
        crisis.owner_timezone = owner_time_zone(slack, crisis.owner_id)
    crisis.status = CrisisStatus.OPEN
    if not crisis.owner_told:
        # The reply to the declarer tells them; until that is recorded, the sweep's to-do
        # says to tell them by DM, so a crash right here still never leaves them untold.
        crisis.pending_since = now
    reschedule(crisis, settings, now)
    session.commit()


def owner_time_zone(slack: SlackPort, user: str) -> str | None:
    """The owner's time zone from their Slack profile, for their working hours; None when
    Slack has none or will not say (``CRISISBOT_TIMEZONE`` then stands in)."""
    try:
        return slack.time_zone(user=user)
    except SlackFailure as failure:
        log.info("no time zone for %s: %s", user, failure)
        return None


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
        zone=crisis.promised_in_zone,
        as_csm=crisis.account is not None and crisis.account.csm_id == crisis.owner_id,
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
    card = (
        card_text(crisis),
        crisis_card(
            crisis, now=now, ack_emoji=settings.ack_emoji, promises=ledger.tally_of(crisis)
        ),
    )
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


def open_for_customer(
    session: Session, customer: str, *, account_id: int | None = None
) -> Crisis | None:
    """An open (or being declared) crisis for this customer: for its account, or by a name
    compared ignoring case and surrounding spaces. (SQLite folds only ASCII letters;
    PostgreSQL folds them all.)"""
    name = customer.strip().lower()
    same = func.lower(func.trim(Crisis.customer)) == name
    if account_id is not None:
        same = same | (Crisis.account_id == account_id)
    return session.scalars(
        select(Crisis)
        .where(Crisis.status.in_((CrisisStatus.OPEN, CrisisStatus.DECLARING)))
        .where(same)
        .order_by(Crisis.declared_at.desc(), Crisis.id.desc())
    ).first()


@dataclass(frozen=True)
class NearMiss:
    """A customer's name close to an account's but not it ("Acme Crop"): ask before declaring."""

    account_id: int
    account_name: str


def match_account(
    session: Session, request: DeclareRequest, *, near_miss: bool = True, owner_named: bool = False
) -> DeclareRequest | NearMiss:
    """The declaration for the account its customer is (by name or alias; case, accents and
    punctuation ignored); with ``near_miss``, the account a name nearly matches, to ask about;
    else the request as it is, for a new customer."""
    account = accounts.find(session, request.customer)
    if account is not None:
        return for_account(request, account, owner_named=owner_named)
    if near_miss:
        close = accounts.closest(session, request.customer)
        if close is not None:
            return NearMiss(account_id=close.id, account_name=close.name)
    return request


def for_account(
    request: DeclareRequest, account: Account, *, owner_named: bool = False
) -> DeclareRequest:
    """The declaration linked to ``account``: under its name, owned by its CSM (by the
    declarer when it has none, or by whom the declarer named), its team the responders."""
    owner = request.owner_id if owner_named else (account.csm_id or request.declared_by)
    people = dict.fromkeys([*account.team, *request.responders])
    return declare_request(
        **{
            **request.model_dump(),
            "customer": account.name,
            "account_id": account.id,
            "owner_id": owner,
            "responders": [person for person in people if person != owner],
        }
    )


def link_account(
    session: Session, request: DeclareRequest, *, account_id: int | None, owner_named: bool
) -> DeclareRequest:
    """A form's declaration: for the account picked, else for the account its customer's name
    is, else as it is (the declarer picked a new customer: no "did you mean?")."""
    if account_id is not None:
        return for_account(request, account_by_id(session, account_id), owner_named=owner_named)
    matched = match_account(session, request, near_miss=False, owner_named=owner_named)
    assert isinstance(matched, DeclareRequest)
    return matched


def suggest_customers(session: Session, text: str, *, limit: int) -> tuple[list[Account], bool]:
    """The accounts a type-ahead offers for ``text``, best first, and whether ``text`` is
    exactly one's name or alias (then it is no new customer)."""
    found = accounts.search(session, text, limit=limit)
    key = accounts.name_key(text)
    known = bool(key) and any(
        key in (account.name_key, *(accounts.name_key(alias) for alias in account.aliases))
        for account in found
    )
    return found, known


def account_by_id(session: Session, account_id: int) -> Account:
    """The account a question offered; gone (deleted since) is said plainly."""
    account = session.get(Account, account_id)
    if account is None:
        raise CrisisError(messages.declared_account_gone())
    return account


def hold_declaration(
    scope: Scope,
    *,
    request: DeclareRequest,
    existing: Crisis | None,
    pending_id: int | None = None,
) -> PendingDeclaration:
    """Keep a declaration until its declarer says what to do: open a second crisis for the
    customer (``existing``), or which customer it is (``existing`` None: a near miss).

    ``pending_id``: the declaration is already held (its declarer answered one question and
    there is another), so any answer to either question declares it once.
    """
    session = scope.session
    pending = session.get(PendingDeclaration, pending_id) if pending_id else None
    if pending is None:
        pending = PendingDeclaration(
            declared_by=request.declared_by, held_at=scope.now, team_id=scope.team_id
        )
        session.add(pending)
    pending.request = request.model_dump(mode="json", exclude={"source_key"})
    pending.existing_crisis_id = existing.id if existing else None
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
        if pending.existing_crisis_id is None:
            raise CrisisError(messages.already_declared(declared.customer, declared.channel_id))
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
