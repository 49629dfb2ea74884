"""One outage, many customers.

An outage has its own internal channel (``outage-<yyyymmdd>-<slug>``), a card and a pinned
status. Each affected account gets a crisis of its own, owned by its CSM, with its own promise
clock and contracted cadence, linked to the outage and with NO channel until someone splits it
off (200 affected accounts never mean 200 channels); an account's crisis already open is linked,
not duplicated.

A broadcast is rendered per account from the outage template, in its language and time zone,
checked by the leak guard, and sent through ``SlackPort.post_to_customer`` (the only way into a
customer channel). Every account's message is stored with its key before anything is posted;
after a crash the key is looked for in the customer channel before posting again.

A broadcast being sent is held by its process's lease (``claimed_by``, ``lease_until``),
renewed by the heartbeat while the sending is alive (``bot/services/leases.py``): once a dead
process's lease has run out, any replica's next tick resumes it.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import messages
from bot.blocks.outage import outage_card, outage_status, told_copy_blocks
from bot.customer import (
    Confidential,
    LeakError,
    check_for_customer,
    confidential_for,
    ensure_for_customer,
    render_broadcast,
    render_closure,
)
from bot.db.models import (
    Account,
    Broadcast,
    BroadcastDelivery,
    Crisis,
    CustomerMessageRecord,
    Outage,
    OutageAccount,
    StatusUpdate,
)
from bot.db.session import SessionFactory
from bot.enums import (
    CrisisKind,
    CrisisStatus,
    CustomerMessagePurpose,
    CustomerMessageStatus,
    PromiseTold,
    Severity,
)
from bot.services import accounts, crises, leases, lifecycle, telling
from bot.services.errors import CrisisError
from bot.services.naming import customer_slug
from bot.services.port import SlackFailure, post_once
from bot.services.requests import declare_request
from bot.services.schedule import promise, reschedule
from bot.services.scope import Scope
from bot.text import escape

log = logging.getLogger(__name__)

# After a crash, a message of a broadcast may be in Slack up to this long before its claim.
LOOK_BACK = timedelta(minutes=1)
# What became of one account's message of a broadcast.
POSTED, COPIED, HELD = "posted", "copied", "held"
# Threads that post one broadcast (one chain of messages per customer channel or CSM each).
# Few enough that the short chains' rendering does not delay the long chains' paced posts
# (the benchmark's 16 drew 429s under load; see docs/benchmarks.md).
SENDERS = 8


def channel_name(title: str, declared_at: datetime) -> str:
    """``outage-<yyyymmdd>-<slug>``."""
    return f"outage-{declared_at:%Y%m%d}-{customer_slug(title)}"


def by_channel(session: Session, channel_id: str, *, team_id: str = "") -> Outage | None:
    """The outage whose channel this is."""
    if not channel_id:
        return None
    return session.scalars(
        select(Outage).where(Outage.channel_id == channel_id, Outage.team_id == team_id)
    ).first()


def declare(
    scope: Scope,
    *,
    title: str,
    severity: Severity,
    declared_by: str,
    affected: str = "",
    account_ids: tuple[int, ...] = (),
    source_key: str | None = None,
) -> Outage:
    """Record the outage, open its channel with the card and the pinned status, then add the
    affected accounts picked in the form."""
    session, slack, now = scope.session, scope.slack, scope.now
    title = title.strip()
    if not title:
        raise CrisisError(messages.outage_needs_title())
    if source_key:
        seen = session.scalars(
            select(Outage).where(Outage.source_key == source_key, Outage.team_id == scope.team_id)
        ).first()
        if seen is not None:
            return seen
    outage = Outage(
        team_id=scope.team_id,
        title=title,
        severity=severity,
        affected=affected.strip(),
        declared_by=declared_by,
        declared_at=now,
        source_key=source_key,
    )
    session.add(outage)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        again = session.scalars(
            select(Outage).where(Outage.source_key == source_key, Outage.team_id == scope.team_id)
        ).first()
        if again is None:
            raise
        return again
    outage.channel_id, outage.channel_name = slack.create_channel(name=channel_name(title, now))
    session.commit()
    slack.set_topic(channel=outage.channel_id, topic=messages.outage_topic(outage.title, severity))
    slack.invite(channel=outage.channel_id, users=[declared_by])
    text, blocks = outage_card(outage)
    outage.card_ts = slack.post(
        channel=outage.channel_id, text=text, blocks=blocks, key=f"outage:{outage.id}:card"
    )
    session.commit()
    text, blocks = outage_status(outage, rows=[], now=now)
    outage.status_ts = slack.post(
        channel=outage.channel_id, text=text, blocks=blocks, key=f"outage:{outage.id}:status"
    )
    session.commit()
    slack.pin(channel=outage.channel_id, ts=outage.status_ts)
    log.info("outage %s declared by %s", outage.id, declared_by)
    if account_ids:
        picked = list(
            session.scalars(
                select(Account).where(Account.id.in_(account_ids)).order_by(Account.name_key)
            )
        )
        add_affected(scope, outage=outage, found=picked, actor_id=declared_by)
    return outage


def find_accounts(session: Session, names: list[str]) -> tuple[list[Account], list[str]]:
    """The accounts named (by name or alias), and the names that are no account."""
    found: dict[int, Account] = {}
    unknown: list[str] = []
    for name in names:
        account = accounts.find(session, name)
        if account is None:
            unknown.append(name)
        else:
            found.setdefault(account.id, account)
    return list(found.values()), unknown


@dataclass(frozen=True)
class Added:
    """What ``/crisis affected`` did: accounts newly added (their crisis linked when one was
    already open), and those already affected."""

    added: tuple[str, ...]
    linked: tuple[str, ...]
    already: tuple[str, ...]


def _live_links(outage: Outage) -> list[OutageAccount]:
    return [link for link in outage.links if link.removed_at is None]


def add_affected(scope: Scope, *, outage: Outage, found: list[Account], actor_id: str) -> Added:
    """Each account gets its crisis (or its open one is linked), owned by its CSM, who is told
    by DM; nothing is duplicated when it is added twice."""
    session, now = scope.session, scope.now
    _require_open(outage)
    added: list[str] = []
    linked: list[str] = []
    already: list[str] = []
    by_account = {link.account_id: link for link in outage.links}
    for account in found:
        link = by_account.get(account.id)
        if link is not None and link.removed_at is None:
            already.append(account.name)
            continue
        existing = crises.open_for_customer(session, account.name, account_id=account.id)
        crisis = existing if existing is not None else _account_crisis(scope, outage, account)
        if link is None:
            link = OutageAccount(
                team_id=scope.team_id,
                outage_id=outage.id,
                account_id=account.id,
                crisis_id=crisis.id,
                linked=existing is not None,
                added_by=actor_id,
                added_at=now,
            )
            session.add(link)
        else:
            link.removed_at, link.crisis_id = None, crisis.id
            link.linked = existing is not None
        session.commit()
        (linked if existing is not None else added).append(account.name)
        _tell_csm(scope, outage=outage, crisis=crisis, linked=existing is not None)
    session.refresh(outage)
    refresh_status(scope, outage=outage)
    return Added(tuple(added), tuple(linked), tuple(already))


def _account_crisis(scope: Scope, outage: Outage, account: Account) -> Crisis:
    """The account's crisis for the outage: open at once, without a channel of its own."""
    session = scope.session
    request = declare_request(
        customer=account.name,
        experienced=outage.affected or outage.title,
        severity=outage.severity,
        kind=CrisisKind.SERVICE_OUTAGE,
        declared_by=outage.declared_by,
        owner_id=outage.declared_by,
        origin_channel_id=outage.channel_id,
        source_key=f"outage:{outage.id}:account:{account.id}",
    )
    request = crises.for_account(request, account)
    crisis, _new = crises.store_declaration(scope, request=request)
    if crisis.status == CrisisStatus.DECLARING:
        # No channel to set up: open now, so the sweep never makes one (``/crisis split`` does).
        crisis.status = CrisisStatus.OPEN
        reschedule(crisis, scope.settings, scope.now)
        session.commit()
    return crisis


def _tell_csm(scope: Scope, *, outage: Outage, crisis: Crisis, linked: bool) -> None:
    """DM the crisis owner (the account's CSM) that the account is in the outage, once."""
    assert outage.channel_id is not None and crisis.next_update_due_at is not None
    text = messages.outage_csm_dm(
        crisis.customer,
        outage.title,
        outage.channel_id,
        crisis.next_update_due_at,
        linked_channel=crisis.channel_id if linked else None,
        zone=crisis.promised_in_zone,
    )
    blocks = told_copy_blocks(text, ack_crisis_id=crisis.id)
    post_once(
        scope.slack,
        channel=crisis.owner_id,
        key=f"outage:{outage.id}:crisis:{crisis.id}:csm",
        text=text,
        blocks=blocks,
    )
    if not crisis.owner_told:
        crisis.owner_told = True
        reschedule(crisis, scope.settings, scope.now)
        scope.session.commit()


def link_of(outage: Outage, session: Session, name: str) -> OutageAccount:
    """The affected account called ``name``; a clear refusal when it is not one."""
    account = accounts.find(session, name)
    if account is None:
        raise CrisisError(messages.outage_unknown_accounts([name]))
    for link in _live_links(outage):
        if link.account_id == account.id:
            return link
    raise CrisisError(messages.outage_not_affected(account.name))


def remove_affected(scope: Scope, *, outage: Outage, name: str, actor_id: str) -> str:
    """The account is not affected after all: no longer told. Its crisis stays as it is (the
    CSM closes it, or it carries on as the account's own)."""
    _require_open(outage)
    link = link_of(outage, scope.session, name)
    link.removed_at = scope.now
    scope.session.commit()
    refresh_status(scope, outage=outage)
    return link.account.name


def split(scope: Scope, *, outage: Outage, name: str, actor_id: str) -> Crisis:
    """Give an affected account's crisis a channel of its own, set up as a declaration's."""
    _require_open(outage)
    link = link_of(outage, scope.session, name)
    crisis = link.crisis
    if crisis.channel_id is not None:
        raise CrisisError(messages.outage_already_split(crisis.customer, crisis.channel_id))
    if crisis.status == CrisisStatus.CLOSED:
        raise CrisisError(messages.crisis_closed("split off"))
    if actor_id not in (crisis.owner_id, *crisis.responders):
        crisis.responders = [*crisis.responders, actor_id]
    crises.finish_declaration(scope, crisis=crisis, dm_owner=False)
    return crisis


# -- status ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One affected account, as ``/crisis status`` shows it."""

    account: str
    csm: str
    acknowledged: bool
    last_told: datetime | None
    next_due: datetime | None
    overdue: bool
    channel: str | None
    closed: bool


def status_rows(scope: Scope, *, outage: Outage) -> list[Row]:
    """A row per affected account: CSM, acknowledged, last told, next promise, overdue."""
    links = _live_links(outage)
    crisis_ids = [link.crisis_id for link in links]
    told = dict(
        scope.session.execute(
            select(CustomerMessageRecord.crisis_id, func.max(CustomerMessageRecord.sent_at))
            .where(
                CustomerMessageRecord.crisis_id.in_(crisis_ids),
                CustomerMessageRecord.status.in_(
                    (CustomerMessageStatus.SENT, CustomerMessageStatus.TOLD)
                ),
            )
            .group_by(CustomerMessageRecord.crisis_id)
        ).all()
    )
    rows = []
    for link in links:
        crisis = link.crisis
        closed = crisis.status == CrisisStatus.CLOSED
        due = None if closed else crisis.next_update_due_at
        rows.append(
            Row(
                account=link.account.name,
                csm=crisis.owner_id,
                acknowledged=crisis.first_ack_at is not None,
                last_told=told.get(crisis.id),
                next_due=due,
                overdue=due is not None and due < scope.now,
                channel=crisis.channel_id,
                closed=closed,
            )
        )
    return sorted(rows, key=lambda row: (not row.overdue, row.next_due or scope.now, row.account))


def refresh_status(scope: Scope, *, outage: Outage) -> None:
    """Edit the pinned status (and the card) in place to match the database."""
    if not outage.channel_id:
        return
    rows = status_rows(scope, outage=outage)
    scope.session.commit()  # end the read before the Slack calls
    try:
        if outage.status_ts:
            text, blocks = outage_status(outage, rows=rows, now=scope.now)
            scope.slack.update(
                channel=outage.channel_id, ts=outage.status_ts, text=text, blocks=blocks
            )
        if outage.card_ts:
            text, blocks = outage_card(outage)
            scope.slack.update(
                channel=outage.channel_id, ts=outage.card_ts, text=text, blocks=blocks
            )
    except SlackFailure as failure:
        # The record is right; only the pinned view is behind until the next change.
        log.warning("outage %s: could not refresh its status: %s", outage.id, failure)


# -- broadcast ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Destination:
    """One account's message of a broadcast, and where it goes."""

    account: str
    language: str
    csm: str
    channel: str | None
    text: str
    leaks: tuple[str, ...]


@dataclass(frozen=True)
class BroadcastPreview:
    broadcast_id: int
    outage_title: str
    destinations: tuple[Destination, ...]

    @property
    def leaks(self) -> bool:
        return any(d.leaks for d in self.destinations)


def prepare_broadcast(
    scope: Scope, *, outage: Outage, author_id: str, text: str
) -> BroadcastPreview:
    """Hold a broadcast and show every affected account's message and where it goes."""
    _require_open(outage)
    text = text.strip()
    if not text:
        raise CrisisError(messages.broadcast_empty())
    if not _open_links(outage):
        raise CrisisError(messages.broadcast_no_accounts())
    broadcast = Broadcast(
        team_id=scope.team_id,
        outage_id=outage.id,
        author_id=author_id,
        text=text,
        created_at=scope.now,
    )
    scope.session.add(broadcast)
    scope.session.commit()
    return broadcast_preview(scope, broadcast=broadcast)


def broadcast_preview(scope: Scope, *, broadcast: Broadcast) -> BroadcastPreview:
    outage = broadcast.outage
    everyone = accounts.all_accounts(scope.session)
    shown = []
    for link in _open_links(outage):
        rendered = _render(scope, outage, link, broadcast.text)
        leaks = check_for_customer(rendered, context=_guard(outage, link.crisis, everyone))
        shown.append(
            Destination(
                account=link.account.name,
                language=link.account.language,
                csm=link.crisis.owner_id,
                channel=link.account.customer_channel,
                text=rendered,
                leaks=tuple(leak.what for leak in leaks),
            )
        )
    return BroadcastPreview(broadcast.id, outage.title, tuple(shown))


def _open_links(outage: Outage) -> list[OutageAccount]:
    return [link for link in _live_links(outage) if link.crisis.status != CrisisStatus.CLOSED]


def _render(scope: Scope, outage: Outage, link: OutageAccount, text: str) -> str:
    """The outage template for this account: its language, its time zone, its promise."""
    account, crisis = link.account, link.crisis
    due = promise(
        now=scope.now,
        cadence=timedelta(seconds=crisis.cadence_seconds),
        severity=crisis.severity,
        account=account,
    ).at
    return render_broadcast(
        language=account.language,
        customer=account.name,
        affected=outage.affected or outage.title,
        doing=text,
        next_due=due,
        zone=account.timezone,
        templates_dir=scope.settings.templates_dir,
    ).text


def _guard(outage: Outage, crisis: Crisis, everyone: list[Account]) -> Confidential:
    """The leak guard's context: the crisis's, with the outage channel as internal too when
    the account has no channel of its own."""
    context = confidential_for(crisis=crisis, accounts=everyone)
    if crisis.channel_id is None:
        context = replace(
            context,
            internal_channel_id=outage.channel_id,
            internal_channel_name=outage.channel_name,
        )
    return context


@dataclass(frozen=True)
class BroadcastResult:
    posted: tuple[str, ...]
    copies: tuple[str, ...]
    already: bool
    # False: this process stopped (or lost its lease) before the end; another replica finishes.
    finished: bool = True


def send_broadcast(
    scope: Scope,
    *,
    broadcast_id: int,
    user_id: str,
    session_factory: SessionFactory | None = None,
) -> BroadcastResult:
    """*Send*: refused whole if what it says names any account or anything internal; else
    every account's message is stored with its key, then each is rendered, passed through the
    guard again on its own and posted (or its copy DMed to the CSM) once."""
    session = scope.session
    broadcast = _broadcast(scope, broadcast_id)
    outage = broadcast.outage
    if broadcast.sent_at is not None:
        return BroadcastResult((), (), already=True)
    _require_open(outage)
    links = _open_links(outage)
    if not links:
        raise CrisisError(messages.broadcast_no_accounts())
    # What varies between the messages is only each customer's own name and time: the words
    # written for all of them may name no account at all (one check, not one per account).
    everyone = accounts.all_accounts(session)
    said = "\n".join(part for part in (broadcast.text, outage.affected) if part)
    context = replace(
        _guard(outage, links[0].crisis, everyone),
        other_accounts=tuple((a.name, *a.aliases) for a in everyone),
        customer_names=(),
    )
    leaks = check_for_customer(escape(said), context=context)
    if leaks:
        raise CrisisError(messages.broadcast_leak(leaks))
    claimed = session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast.id, Broadcast.sent_at.is_(None))
        .values(
            sent_at=scope.now,
            sent_by=user_id,
            claimed_by=scope.claims.token,
            lease_until=scope.now + scope.settings.lease,
        )
        .returning(Broadcast.id)
        .execution_options(synchronize_session=False)
    ).first()
    if claimed is None:
        session.rollback()
        return BroadcastResult((), (), already=True)
    # Every account's message and key stored in the claim's transaction, before any post;
    # each is rendered when its turn comes (its promise counted from then).
    records = [
        CustomerMessageRecord(
            crisis_id=link.crisis_id,
            author_id=user_id,
            text=broadcast.text,
            language=link.account.language,
            channel=link.account.customer_channel,
            purpose=CustomerMessagePurpose.BROADCAST,
            created_at=scope.now,
        )
        for link in links
    ]
    session.add_all(records)
    session.flush()
    session.add_all(
        BroadcastDelivery(
            team_id=scope.team_id,
            broadcast_id=broadcast.id,
            account_id=link.account_id,
            crisis_id=link.crisis_id,
            message_id=record.id,
            key=f"broadcast:{broadcast.id}:account:{link.account_id}",
            channel=link.account.customer_channel,
        )
        for link, record in zip(links, records, strict=True)
    )
    session.commit()
    session.refresh(broadcast)
    return deliver(scope, broadcast=broadcast, resuming=False, session_factory=session_factory)


def deliver(
    scope: Scope,
    *,
    broadcast: Broadcast,
    resuming: bool,
    session_factory: SessionFactory | None = None,
) -> BroadcastResult:
    """Post each account's message not yet out, the broadcast's lease renewed meanwhile (the
    caller has claimed it). ``resuming`` after a crash: a message claimed but without its ts is
    first looked for in its channel by its key. Stops before the next message if the process
    is stopping or the claim was taken over; the broadcast is then left unfinished.

    With ``session_factory``, the messages go out on ``SENDERS`` threads, one chain per place
    (a customer channel, a CSM's DM: Slack takes a message a second in each), longest chains
    first, so the broadcast takes as long as Slack's limits make it and no longer."""
    session = scope.session
    deliveries = list(
        session.scalars(
            select(BroadcastDelivery)
            .where(
                BroadcastDelivery.broadcast_id == broadcast.id,
                BroadcastDelivery.team_id == scope.team_id,
                BroadcastDelivery.done_at.is_(None),
            )
            .order_by(BroadcastDelivery.id)
        )
    )
    assert broadcast.sent_at is not None and broadcast.sent_by is not None
    chains: dict[str, list[int]] = {}
    for delivery in deliveries:
        place = delivery.channel or delivery.message.crisis.owner_id
        chains.setdefault(place, []).append(delivery.id)
    ordered = sorted(chains.values(), key=len, reverse=True)
    session.commit()  # end the read: the senders work in their own sessions

    def run_chain(ids: list[int], chain_scope: Scope) -> list[tuple[str, str]]:
        everyone = accounts.all_accounts(chain_scope.session)
        done: list[tuple[str, str]] = []
        for i in ids:
            if not leases.holds_broadcast(
                chain_scope.session, broadcast_id=broadcast.id, claims=chain_scope.claims
            ):
                break
            done.append(
                _deliver_one(
                    chain_scope,
                    delivery_id=i,
                    broadcast_id=broadcast.id,
                    everyone=everyone,
                    resuming=resuming,
                )
            )
        return done

    def in_own_session(ids: list[int]) -> list[tuple[str, str]]:
        assert session_factory is not None
        with session_factory() as own:
            return run_chain(ids, replace(scope, session=own))

    done: list[tuple[str, str]] = []
    with scope.claims.leasing(Broadcast, broadcast.id):
        if session_factory is None or len(ordered) <= 1:
            for ids in ordered:
                done.extend(run_chain(ids, scope))
        else:
            with ThreadPoolExecutor(
                max_workers=min(SENDERS, len(ordered)), thread_name_prefix="broadcast"
            ) as senders:
                for result in senders.map(in_own_session, ordered):
                    done.extend(result)
    posted = [name for name, outcome in done if outcome == POSTED]
    copies = [name for name, outcome in done if outcome == COPIED]
    session.refresh(broadcast)
    if len(done) < len(deliveries):
        # Stopping (the claim is given back at shutdown) or taken over: another finishes it.
        log.info(
            "broadcast %s: %s of %s sent, the rest left", broadcast.id, len(done), len(deliveries)
        )
        session.commit()
        return BroadcastResult(tuple(posted), tuple(copies), already=False, finished=False)
    broadcast.finished_at = scope.now
    broadcast.claimed_by = broadcast.lease_until = None
    session.commit()
    if resuming:
        # The summary counts every account, those told by the process before this one too.
        posted, copies = _told(scope, broadcast.id)
    _announce(scope, broadcast=broadcast, posted=posted, copies=copies, resuming=resuming)
    refresh_status(scope, outage=broadcast.outage)
    return BroadcastResult(tuple(posted), tuple(copies), already=False)


def _deliver_one(
    scope: Scope,
    *,
    delivery_id: int,
    broadcast_id: int,
    everyone: list[Account],
    resuming: bool,
) -> tuple[str, str]:
    """One account's message: (its name, POSTED in its channel, COPIED for its CSM, or HELD)."""
    session = scope.session
    delivery = session.get(BroadcastDelivery, delivery_id)
    broadcast = session.get(Broadcast, broadcast_id)
    assert delivery is not None and broadcast is not None
    assert broadcast.sent_at is not None and broadcast.sent_by is not None
    since, by = broadcast.sent_at - LOOK_BACK, broadcast.sent_by
    record = delivery.message
    crisis = record.crisis
    name = crisis.account.name if crisis.account is not None else crisis.customer
    link = session.scalars(
        select(OutageAccount).where(
            OutageAccount.outage_id == broadcast.outage_id,
            OutageAccount.crisis_id == crisis.id,
            OutageAccount.team_id == scope.team_id,
        )
    ).first()
    unclaimed = delivery.ts is None and record.status == CustomerMessageStatus.DRAFT
    if unclaimed and link is not None:
        record.text = _render(scope, broadcast.outage, link, broadcast.text)
        session.commit()
    if delivery.channel is None:
        _hand_copy(scope, delivery=delivery, crisis=crisis, resuming=resuming, since=since)
        return name, COPIED
    # Only a message a dead process had claimed can be in Slack already: only it is looked for.
    claimed_before = record.status == CustomerMessageStatus.SENT
    if record.status == CustomerMessageStatus.DRAFT:
        record.status = CustomerMessageStatus.SENT
        record.sent_by, record.sent_at, record.sent_text = by, scope.now, record.text
        session.commit()
    if record.ts is None:
        found = None
        if resuming and claimed_before:
            found = scope.slack.find_posted(channel=delivery.channel, key=delivery.key, since=since)
        if found is None:
            try:
                found = telling.to_customer(
                    scope,
                    channel=delivery.channel,
                    text=record.text,
                    context=_guard(broadcast.outage, crisis, everyone),
                    key=delivery.key,
                )
            except LeakError:
                # Only this customer's message names something it must not (their own name
                # holding another's, say): it stays a draft, held for the CSM to look at.
                record.status = CustomerMessageStatus.DRAFT
                record.sent_by = record.sent_at = record.sent_text = None
                delivery.done_at = scope.now
                session.commit()
                log.warning("broadcast %s: held the message for %s", broadcast.id, name)
                return name, HELD
            except SlackFailure as failure:
                if failure.error not in telling.NO_WAY_IN:
                    raise
                # No way in after all: the CSM gets the copy to send instead.
                record.status = CustomerMessageStatus.DRAFT
                record.sent_by = record.sent_at = record.sent_text = None
                delivery.channel = None
                session.commit()
                _hand_copy(scope, delivery=delivery, crisis=crisis, resuming=False, since=since)
                return name, COPIED
        record.ts = delivery.ts = found
        session.commit()
    _renew(scope, delivery=delivery, crisis=crisis, record=record, by=by)
    return name, POSTED


def _renew(
    scope: Scope,
    *,
    delivery: BroadcastDelivery,
    crisis: Crisis,
    record: CustomerMessageRecord,
    by: str,
) -> None:
    """The account was told: its promise kept and the next made, once (the update carries the
    delivery's id, so a resume after a crash does not renew it twice)."""
    source = f"broadcast:{delivery.id}"
    seen = scope.session.scalars(
        select(StatusUpdate.id).where(
            StatusUpdate.crisis_id == crisis.id, StatusUpdate.source_ts == source
        )
    ).first()
    if seen is None and crisis.status != CrisisStatus.CLOSED:
        customer = crisis.account.name if crisis.account is not None else crisis.customer
        assert delivery.channel is not None

        def said(due: datetime, zone: str | None) -> str:
            head = messages.sent_to_customer(customer, delivery.channel or "", by)
            return messages.customer_quote(head, record.text, "", due, zone)

        lifecycle.renew_promise(
            scope,
            crisis=crisis,
            author_id=by,
            text=record.text,
            said=said,
            told=PromiseTold.CUSTOMER,
            source_ts=source,
        )
    delivery.done_at = scope.now
    scope.session.commit()


def _hand_copy(
    scope: Scope,
    *,
    delivery: BroadcastDelivery,
    crisis: Crisis,
    resuming: bool,
    since: datetime,
) -> None:
    """No customer channel: the CSM gets the message ready to copy, with *I sent it* (which
    records it as told and renews the promise)."""
    record = delivery.message
    customer = crisis.account.name if crisis.account is not None else crisis.customer
    text = messages.broadcast_copy_dm(customer, record.text)
    # "" marks it claimed: after a crash, only a claimed copy is looked for in the DM first.
    look_since = since if resuming and delivery.ts == "" else None
    delivery.ts = ""
    scope.session.commit()
    delivery.ts = post_once(
        scope.slack,
        channel=crisis.owner_id,
        key=delivery.key,
        text=text,
        blocks=told_copy_blocks(text, message_id=record.id),
        look_since=look_since,
    )
    delivery.done_at = scope.now
    scope.session.commit()


def _told(scope: Scope, broadcast_id: int) -> tuple[list[str], list[str]]:
    """The accounts a broadcast has reached: (posted in their channel, copy DMed to the CSM)."""
    posted: list[str] = []
    copies: list[str] = []
    for delivery in scope.session.scalars(
        select(BroadcastDelivery)
        .where(
            BroadcastDelivery.broadcast_id == broadcast_id,
            BroadcastDelivery.team_id == scope.team_id,
            BroadcastDelivery.done_at.is_not(None),
            BroadcastDelivery.ts.is_not(None),
        )
        .order_by(BroadcastDelivery.id)
    ):
        crisis = delivery.message.crisis
        name = crisis.account.name if crisis.account is not None else crisis.customer
        (posted if delivery.channel is not None else copies).append(name)
    return posted, copies


def _announce(
    scope: Scope,
    *,
    broadcast: Broadcast,
    posted: list[str],
    copies: list[str],
    resuming: bool,
) -> None:
    outage = broadcast.outage
    if not outage.channel_id:
        return
    assert broadcast.sent_by is not None
    post_once(
        scope.slack,
        channel=outage.channel_id,
        key=f"broadcast:{broadcast.id}:summary",
        text=messages.broadcast_sent(broadcast.sent_by, broadcast.text, posted, copies),
        look_since=(broadcast.sent_at - LOOK_BACK) if resuming and broadcast.sent_at else None,
    )


def broadcasts_to_resume(session: Session, *, now: datetime) -> list[tuple[str, int]]:
    """(workspace, id) of every broadcast sent, not finished, whose lease has run out (its
    process died) or was given back (its process stopped), oldest first."""
    rows = session.execute(
        select(Broadcast.team_id, Broadcast.id)
        .where(
            Broadcast.sent_at.is_not(None),
            Broadcast.finished_at.is_(None),
            or_(Broadcast.lease_until.is_(None), Broadcast.lease_until <= now),
        )
        .order_by(Broadcast.id)
    )
    return [(team_id, broadcast_id) for team_id, broadcast_id in rows]


def resume_broadcast(
    scope: Scope, *, broadcast_id: int, session_factory: SessionFactory | None = None
) -> bool:
    """Take over a broadcast whose lease has run out and finish it, looking in Slack for each
    message its last sender had claimed before posting it; False if another replica took it
    first (or it is finished)."""
    if not leases.claim_broadcast(
        scope.session,
        broadcast_id=broadcast_id,
        claims=scope.claims,
        now=scope.now,
        lease=scope.settings.lease,
    ):
        return False
    broadcast = _broadcast(scope, broadcast_id)
    scope.session.refresh(broadcast)
    log.info("broadcast %s: resuming it (its last sender's lease ran out)", broadcast_id)
    deliver(scope, broadcast=broadcast, resuming=True, session_factory=session_factory)
    return True


def _broadcast(scope: Scope, broadcast_id: int) -> Broadcast:
    broadcast = scope.session.scalars(
        select(Broadcast).where(Broadcast.id == broadcast_id, Broadcast.team_id == scope.team_id)
    ).first()
    if broadcast is None:
        raise CrisisError(messages.broadcast_gone())
    return broadcast


def broadcast_by_id(scope: Scope, *, broadcast_id: int) -> Broadcast:
    return _broadcast(scope, broadcast_id)


# -- closing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Closed:
    closed: tuple[str, ...]
    copies: tuple[str, ...]
    left_open: tuple[str, ...]


def open_accounts(outage: Outage) -> list[OutageAccount]:
    """The affected accounts whose crisis is still open: what closing the outage offers."""
    return _open_links(outage)


def close(
    scope: Scope,
    *,
    outage: Outage,
    actor_id: str,
    resolution: str,
    leave_open: frozenset[int] = frozenset(),
) -> Closed:
    """Close the outage and every linked crisis not in ``leave_open`` (account ids), each with
    a closing message to its customer (posted, or a copy for the CSM)."""
    session, now = scope.session, scope.now
    if outage.status == CrisisStatus.CLOSED:
        raise CrisisError(messages.outage_already_closed())
    resolution = resolution.strip()
    if not resolution:
        raise CrisisError(messages.close_needs_resolution())
    everyone = accounts.all_accounts(session)
    closing = [link for link in _open_links(outage) if link.account_id not in leave_open]
    kept = [link.account.name for link in _open_links(outage) if link.account_id in leave_open]
    # The closing messages first pass the guard, all of them, before anything is closed.
    texts = {}
    for link in closing:
        account = link.account
        text = render_closure(
            language=account.language,
            customer=account.name,
            resolved=resolution,
            zone=account.timezone,
            templates_dir=scope.settings.templates_dir,
        ).text
        try:
            ensure_for_customer(text, context=_guard(outage, link.crisis, everyone))
        except LeakError as error:
            raise CrisisError(messages.closing_leak(account.name, error.leaks)) from None
        texts[link.id] = text
    # Each crisis: its closing message claimed (a row) and sent with its key, then the crisis
    # closed; the outage last. A crash halfway leaves the outage open with the rest of its
    # crises: closing it again finishes them, looking in Slack for a claimed message first.
    closed: list[str] = []
    copies: list[str] = []
    for link in closing:
        crisis, account = link.crisis, link.account
        key = f"outage:{outage.id}:closure:{crisis.id}"
        record = session.scalars(
            select(CustomerMessageRecord)
            .where(
                CustomerMessageRecord.crisis_id == crisis.id,
                CustomerMessageRecord.purpose == CustomerMessagePurpose.CLOSURE,
                CustomerMessageRecord.created_at >= outage.declared_at,
            )
            .order_by(CustomerMessageRecord.id.desc())
        ).first()
        again = record is not None
        if record is None:
            record = CustomerMessageRecord(
                crisis_id=crisis.id,
                author_id=actor_id,
                text=texts[link.id],
                language=account.language,
                channel=account.customer_channel,
                purpose=CustomerMessagePurpose.CLOSURE,
                created_at=now,
            )
            session.add(record)
            if account.customer_channel:
                record.status = CustomerMessageStatus.SENT
                record.sent_by, record.sent_at, record.sent_text = actor_id, now, record.text
            session.commit()
        since = record.created_at - LOOK_BACK
        if account.customer_channel:
            if record.ts is None:
                found = (
                    scope.slack.find_posted(channel=account.customer_channel, key=key, since=since)
                    if again
                    else None
                )
                record.ts = found or telling.to_customer(
                    scope,
                    channel=account.customer_channel,
                    text=record.text,
                    context=_guard(outage, crisis, everyone),
                    key=key,
                )
                session.commit()
            closed.append(account.name)
        else:
            text = messages.broadcast_copy_dm(account.name, record.text)
            post_once(
                scope.slack,
                channel=crisis.owner_id,
                key=key,
                text=text,
                blocks=told_copy_blocks(text, message_id=record.id),
                look_since=since if again else None,
            )
            copies.append(account.name)
        lifecycle.close(scope, crisis=crisis, actor_id=actor_id, resolution=resolution)
    outage.status = CrisisStatus.CLOSED
    outage.closed_at = now
    outage.resolution = resolution
    session.commit()
    if outage.channel_id:
        post_once(
            scope.slack,
            channel=outage.channel_id,
            key=f"outage:{outage.id}:closed",
            text=messages.outage_closed(actor_id, resolution, closed, copies, kept),
        )
    refresh_status(scope, outage=outage)
    return Closed(tuple(closed), tuple(copies), tuple(kept))


def _require_open(outage: Outage) -> None:
    if outage.status == CrisisStatus.CLOSED:
        raise CrisisError(messages.outage_already_closed())
