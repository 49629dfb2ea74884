"""Tables. Due times for every reminder live here, so restarts and replicas recompute them."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.enums import (
    AckVia,
    CrisisKind,
    CrisisStatus,
    CustomerMessagePurpose,
    CustomerMessageStatus,
    PromiseOutcome,
    PromiseTold,
    ReminderKind,
    Severity,
    TimelineKind,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC and always hands back timezone-aware UTC datetimes, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


E = TypeVar("E", bound=StrEnum)


class StrEnumColumn(TypeDecorator[E]):
    """A ``StrEnum`` stored as its value in a plain string column (no database enum, so no
    migration), handed back as the member."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: E | str | None, dialect: Any) -> str | None:
        # A string that is not one of the members is refused here, not stored.
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Any) -> E | None:
        return None if value is None else self.enum(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class InWorkspace:
    """A row that belongs to one Slack workspace: ``team_id``, "" for a single-workspace bot.

    Filled from the scope's team when stored; a session bound to a workspace (see
    ``bot.db.tenancy``) only ever reads and writes its own workspace's rows."""

    team_id: Mapped[str] = mapped_column(String(32), default="", server_default="")


def add_slack_oauth_tables(metadata: MetaData) -> None:
    """slack_sdk's OAuth stores' own tables (installations, bots, states), as its SQLAlchemy
    stores define them: in our schema, created by our migrations."""
    store = SQLAlchemyInstallationStore
    store.build_installations_table(metadata, store.default_installations_table_name)
    store.build_bots_table(metadata, store.default_bots_table_name)
    SQLAlchemyOAuthStateStore.build_oauth_states_table(
        metadata, SQLAlchemyOAuthStateStore.default_table_name
    )


add_slack_oauth_tables(Base.metadata)


class Workspace(Base):
    """A workspace the app was installed in through OAuth; ``uninstalled_at`` set once Slack
    said the app was uninstalled or its bot token revoked: its reminders stop, its data stays."""

    __tablename__ = "workspaces"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    uninstalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Account(InWorkspace, Base):
    """A customer account, as the team's CRM knows it: who looks after it, when they work,
    in which language we speak to them and what update cadence was contracted."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("team_id", "name_key", name="uq_accounts_team_name_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # The name as it is matched (case, accents and punctuation ignored): unique in a workspace.
    name_key: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    tier: Mapped[str] = mapped_column(String(60), default="")
    csm_id: Mapped[str | None] = mapped_column(String(32), default=None)
    team: Mapped[list[str]] = mapped_column(JSON, default=list)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    business_hours: Mapped[str] = mapped_column(String(80), default="Mon-Fri 09:00-17:00")
    language: Mapped[str] = mapped_column(String(8), default="en")
    customer_channel: Mapped[str | None] = mapped_column(String(32), default=None)
    # Contracted update cadences in seconds, per severity; None: the severity's default.
    cadence_sev1: Mapped[int | None] = mapped_column(Integer, default=None)
    cadence_sev2: Mapped[int | None] = mapped_column(Integer, default=None)
    cadence_sev3: Mapped[int | None] = mapped_column(Integer, default=None)
    cadence_sev4: Mapped[int | None] = mapped_column(Integer, default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def contracted_cadence(self, severity: Severity) -> int | None:
        """Seconds between updates for ``severity`` as contracted, if it was."""
        return {
            Severity.SEV1: self.cadence_sev1,
            Severity.SEV2: self.cadence_sev2,
            Severity.SEV3: self.cadence_sev3,
            Severity.SEV4: self.cadence_sev4,
        }.get(severity)


class Crisis(InWorkspace, Base):
    """One customer crisis, from declaration to follow-up."""

    __tablename__ = "crises"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer: Mapped[str] = mapped_column(String(200))
    # The account the customer is, when the team keeps one (None: an ad-hoc customer).
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), default=None, index=True
    )
    kind: Mapped[CrisisKind] = mapped_column(StrEnumColumn(CrisisKind, 40))
    severity: Mapped[Severity] = mapped_column(StrEnumColumn(Severity, 8))
    experienced: Mapped[str] = mapped_column(Text, default="")
    expected: Mapped[str] = mapped_column(Text, default="")
    # declaring -> open -> closed (and back to open on reopen)
    status: Mapped[CrisisStatus] = mapped_column(
        StrEnumColumn(CrisisStatus, 16), default=CrisisStatus.DECLARING
    )
    declared_by: Mapped[str] = mapped_column(String(32))
    owner_id: Mapped[str] = mapped_column(String(32))
    # The owner's IANA time zone as Slack told it when they became owner (None: not known);
    # sev3 and sev4 reminders wait for their working hours there.
    owner_timezone: Mapped[str | None] = mapped_column(String(64), default=None)
    responders: Mapped[list[str]] = mapped_column(JSON, default=list)
    cadence_seconds: Mapped[int] = mapped_column(Integer)

    channel_id: Mapped[str | None] = mapped_column(String(32), default=None)
    channel_name: Mapped[str | None] = mapped_column(String(80), default=None)
    origin_channel_id: Mapped[str | None] = mapped_column(String(32), default=None)
    card_ts: Mapped[str | None] = mapped_column(String(32), default=None)
    commitment_ts: Mapped[str | None] = mapped_column(String(32), default=None)
    commitment_pinned: Mapped[bool] = mapped_column(default=False)
    announce_channel_id: Mapped[str | None] = mapped_column(String(32), default=None)
    announce_ts: Mapped[str | None] = mapped_column(String(32), default=None)
    owner_told: Mapped[bool] = mapped_column(default=False)
    closure_ts: Mapped[str | None] = mapped_column(String(32), default=None)
    # Set while a recorded update or closure may not be in Slack yet; the sweep finishes it.
    pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    declared_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_ack_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    seconds_to_first_ack: Mapped[int | None] = mapped_column(Integer, default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    seconds_to_resolve: Mapped[int | None] = mapped_column(Integer, default=None)
    resolution: Mapped[str | None] = mapped_column(Text, default=None)
    follow_ups: Mapped[str | None] = mapped_column(Text, default=None)
    # The close form's "What will we change so this doesn't happen again?" (None: not said).
    prevention: Mapped[str | None] = mapped_column(Text, default=None)
    customer_confirmed: Mapped[bool | None] = mapped_column(default=None)

    # The commitment and the reminder state derived from it.
    next_update_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    committed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The customer's time zone when the promise was moved to the opening of their business
    # hours (sev3 and sev4 of an account), so what shows the promise can say so; else None.
    promised_in_zone: Mapped[str | None] = mapped_column(String(64), default=None)
    # Bumped whenever the commitment or the owner changes, so a reminder claimed before the
    # change is not recorded against the new commitment.
    version: Mapped[int] = mapped_column(Integer, default=0)
    heads_up_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_nag_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    nags_sent: Mapped[int] = mapped_column(Integer, default=0)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    follow_up_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    follow_up_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Earliest moment any reminder may be due; the sweep only looks at rows past it.
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None, index=True)
    # Which sweep holds the crisis while its reminder goes out (see services/reminders.py).
    claimed_by: Mapped[str | None] = mapped_column(String(40), default=None)
    # The Slack request a crisis came from (a modal's view id), so a redelivery is not a second one.
    source_key: Mapped[str | None] = mapped_column(String(80), default=None)

    account: Mapped[Account | None] = relationship()
    acknowledgements: Mapped[list[Acknowledgement]] = relationship(
        back_populates="crisis", order_by="Acknowledgement.at", cascade="all, delete-orphan"
    )
    updates: Mapped[list[StatusUpdate]] = relationship(
        back_populates="crisis", order_by="StatusUpdate.posted_at", cascade="all, delete-orphan"
    )
    timeline: Mapped[list[TimelineEvent]] = relationship(
        back_populates="crisis", order_by="TimelineEvent.id", cascade="all, delete-orphan"
    )
    promises: Mapped[list[CustomerPromise]] = relationship(
        back_populates="crisis", order_by="CustomerPromise.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        Index("ix_crises_status_next_update", "status", "next_update_due_at"),
        # Unique within a workspace: channel ids and Slack request keys are the workspace's.
        UniqueConstraint("team_id", "channel_id", name="uq_crises_team_channel_id"),
        UniqueConstraint("team_id", "source_key", name="uq_crises_team_source_key"),
        Index("ix_crises_team_id", "team_id"),
        # The report's times to acknowledge and to resolve in order per owner, kind and
        # severity, with the columns its period filter reads: SQLite walks these instead
        # of sorting a quarter's crises for each breakdown (bot/services/report.py).
        Index(
            "ix_crises_report_owner_ack",
            "owner_id",
            "seconds_to_first_ack",
            "team_id",
            "declared_at",
            "status",
            "closed_at",
        ),
        Index(
            "ix_crises_report_owner_resolve",
            "owner_id",
            "seconds_to_resolve",
            "team_id",
            "closed_at",
            "status",
            "declared_at",
        ),
        Index(
            "ix_crises_report_kind_ack",
            "kind",
            "seconds_to_first_ack",
            "team_id",
            "declared_at",
            "status",
            "closed_at",
        ),
        Index(
            "ix_crises_report_kind_resolve",
            "kind",
            "seconds_to_resolve",
            "team_id",
            "closed_at",
            "status",
            "declared_at",
        ),
        Index(
            "ix_crises_report_severity_ack",
            "severity",
            "seconds_to_first_ack",
            "team_id",
            "declared_at",
            "status",
            "closed_at",
        ),
        Index(
            "ix_crises_report_severity_resolve",
            "severity",
            "seconds_to_resolve",
            "team_id",
            "closed_at",
            "status",
            "declared_at",
        ),
    )

    @property
    def is_open(self) -> bool:
        return self.status == CrisisStatus.OPEN


class Acknowledgement(InWorkspace, Base):
    """A responder saying "I've seen it", once per person per crisis."""

    __tablename__ = "acknowledgements"
    __table_args__ = (UniqueConstraint("crisis_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    crisis_id: Mapped[int] = mapped_column(ForeignKey("crises.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    via: Mapped[AckVia] = mapped_column(StrEnumColumn(AckVia, 16))

    crisis: Mapped[Crisis] = relationship(back_populates="acknowledgements")


class StatusUpdate(InWorkspace, Base):
    """A status update given to the customer, which renews the commitment."""

    __tablename__ = "status_updates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    crisis_id: Mapped[int] = mapped_column(ForeignKey("crises.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_update_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    message_ts: Mapped[str | None] = mapped_column(String(32), default=None)
    # The message an update-emoji reaction quoted, so one message is never counted twice.
    source_ts: Mapped[str | None] = mapped_column(String(32), default=None)

    crisis: Mapped[Crisis] = relationship(back_populates="updates")

    @property
    def promised_in_zone(self) -> str | None:
        """``Crisis.promised_in_zone`` while this update's promise is still the crisis's."""
        if self.next_update_due_at == self.crisis.next_update_due_at:
            return self.crisis.promised_in_zone
        return None


class CustomerMessageRecord(InWorkspace, Base):
    """A message for the customer (``/crisis tell``): a draft until it is sent to their channel,
    or until someone says they told the customer another way (email, a call).

    Held as a row so the preview's buttons survive a restart and a second press sends nothing.
    """

    __tablename__ = "customer_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    crisis_id: Mapped[int] = mapped_column(ForeignKey("crises.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[str] = mapped_column(String(32))
    # What the CSM wrote; the customer sees it framed in ``language`` (see render_frame).
    text: Mapped[str] = mapped_column(Text)
    # For the team only: shown under the quote in the crisis channel, never to the customer.
    note: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8), default="en")
    # The customer channel it went (or was to go) to; None: no channel, copied by hand.
    channel: Mapped[str | None] = mapped_column(String(32), default=None)
    status: Mapped[CustomerMessageStatus] = mapped_column(
        StrEnumColumn(CustomerMessageStatus, 8), default=CustomerMessageStatus.DRAFT
    )
    purpose: Mapped[CustomerMessagePurpose] = mapped_column(
        StrEnumColumn(CustomerMessagePurpose, 12), default=CustomerMessagePurpose.UPDATE
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The framed text as it went out, who sent it and when.
    sent_text: Mapped[str | None] = mapped_column(Text, default=None)
    sent_by: Mapped[str | None] = mapped_column(String(32), default=None)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    ts: Mapped[str | None] = mapped_column(String(32), default=None)
    # How the customer was told when it was not through their channel ("copied").
    told_how: Mapped[str | None] = mapped_column(String(40), default=None)

    crisis: Mapped[Crisis] = relationship()


class CustomerPromise(InWorkspace, Base):
    """One promise of an update made to the customer, and how it ended: the ledger.

    Made at declaration and each time the commitment is renewed; ended (``outcome`` set) by
    the next renewal, which keeps it (on time or late), or by the closure, which keeps it or,
    when it was already overdue, breaks it. At most one per crisis is open (no outcome).
    """

    __tablename__ = "promises"
    # The report counts each crisis's promises that ended in a period from this index alone.
    __table_args__ = (Index("ix_promises_crisis_ended", "crisis_id", "ended_at", "outcome"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    crisis_id: Mapped[int] = mapped_column(ForeignKey("crises.id", ondelete="CASCADE"), index=True)
    # Indexed for the report's latest promises of a period.
    made_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    outcome: Mapped[PromiseOutcome | None] = mapped_column(
        StrEnumColumn(PromiseOutcome, 8), default=None
    )
    # How a kept promise was kept; None while open, and for a broken one.
    told: Mapped[PromiseTold | None] = mapped_column(StrEnumColumn(PromiseTold, 8), default=None)
    # How long after its due time a late promise was kept (0 on time), so SQL can sum it.
    late_seconds: Mapped[int | None] = mapped_column(Integer, default=None)

    crisis: Mapped[Crisis] = relationship(back_populates="promises")


class Outage(InWorkspace, Base):
    """One platform outage that hits many customers: its own internal channel, and an
    account's crisis (owned by its CSM, with its own promise) for each affected account."""

    __tablename__ = "outages"
    __table_args__ = (Index("ix_outages_team_id", "team_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    severity: Mapped[Severity] = mapped_column(StrEnumColumn(Severity, 8))
    # What is affected, in the customers' words ("exports and the API").
    affected: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[CrisisStatus] = mapped_column(
        StrEnumColumn(CrisisStatus, 16), default=CrisisStatus.OPEN
    )
    declared_by: Mapped[str] = mapped_column(String(32))
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime)
    channel_id: Mapped[str | None] = mapped_column(String(32), unique=True, default=None)
    channel_name: Mapped[str | None] = mapped_column(String(80), default=None)
    card_ts: Mapped[str | None] = mapped_column(String(32), default=None)
    status_ts: Mapped[str | None] = mapped_column(String(32), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    resolution: Mapped[str | None] = mapped_column(Text, default=None)
    # The form it came from (a modal's view id), so a redelivery declares it once.
    source_key: Mapped[str | None] = mapped_column(String(80), unique=True, default=None)

    links: Mapped[list[OutageAccount]] = relationship(
        back_populates="outage", order_by="OutageAccount.id", cascade="all, delete-orphan"
    )


class OutageAccount(InWorkspace, Base):
    """An account an outage affects, and the crisis that carries its promise: one made for
    the outage, or the account's crisis already open (linked, not duplicated)."""

    __tablename__ = "outage_accounts"
    __table_args__ = (UniqueConstraint("outage_id", "account_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outage_id: Mapped[int] = mapped_column(ForeignKey("outages.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    crisis_id: Mapped[int] = mapped_column(ForeignKey("crises.id", ondelete="CASCADE"), index=True)
    # The crisis was open before the outage: it is the account's own, only linked.
    linked: Mapped[bool] = mapped_column(default=False)
    added_by: Mapped[str] = mapped_column(String(32))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # ``/crisis unaffected``: no longer told about the outage (the row stays, for the record).
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    outage: Mapped[Outage] = relationship(back_populates="links")
    # Loaded with the links, in one query each: an outage's work reads all of them.
    account: Mapped[Account] = relationship(lazy="selectin")
    crisis: Mapped[Crisis] = relationship(lazy="selectin")


class Broadcast(InWorkspace, Base):
    """One message for every affected customer of an outage: a draft until *Send*."""

    __tablename__ = "outage_broadcasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outage_id: Mapped[int] = mapped_column(ForeignKey("outages.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[str] = mapped_column(String(32))
    # What we are doing, as written; each customer sees it inside the outage template.
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_by: Mapped[str | None] = mapped_column(String(32), default=None)
    # Set when *Send* claimed it; ``finished_at`` once every account's message is out.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # While it is being sent: the sending process's token and its lease, renewed by that
    # process's heartbeat; once the lease has run out another replica resumes it.
    claimed_by: Mapped[str | None] = mapped_column(String(40), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    outage: Mapped[Outage] = relationship()


class BroadcastDelivery(InWorkspace, Base):
    """One account's message of a broadcast. Stored, with its key, before anything is posted:
    after a crash the key is looked for in the customer channel (message metadata) before the
    message is posted again, so no customer ever gets it twice."""

    __tablename__ = "outage_deliveries"
    __table_args__ = (UniqueConstraint("broadcast_id", "account_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(
        ForeignKey("outage_broadcasts.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    crisis_id: Mapped[int] = mapped_column(ForeignKey("crises.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(ForeignKey("customer_messages.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(80), unique=True)
    # The customer channel (None: a copy for the CSM to send, DMed to them).
    channel: Mapped[str | None] = mapped_column(String(32), default=None)
    ts: Mapped[str | None] = mapped_column(String(32), default=None)
    # When its message is out (posted, or the copy DMed) and its promise renewed.
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    message: Mapped[CustomerMessageRecord] = relationship()


class PendingDeclaration(InWorkspace, Base):
    """A declaration held back because the customer already has an open crisis, or because
    its customer's name is close to an account's ("Did you mean *Acme Corp*?").

    Nothing is declared until the declarer answers; the crisis it then makes carries
    ``pending:<id>`` as its source key, so a second press of any answer declares nothing new.
    """

    __tablename__ = "pending_declarations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    declared_by: Mapped[str] = mapped_column(String(32))
    # The validated DeclareRequest, as JSON.
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The open crisis it would duplicate, to say which one (None: a near miss).
    existing_crisis_id: Mapped[int | None] = mapped_column(
        ForeignKey("crises.id", ondelete="SET NULL"), default=None
    )
    held_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TimelineEvent(InWorkspace, Base):
    """Everything that happened to a crisis, with who and when."""

    __tablename__ = "timeline_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    crisis_id: Mapped[int] = mapped_column(ForeignKey("crises.id", ondelete="CASCADE"), index=True)
    kind: Mapped[TimelineKind] = mapped_column(StrEnumColumn(TimelineKind, 24))
    actor_id: Mapped[str | None] = mapped_column(String(32), default=None)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    detail: Mapped[str] = mapped_column(Text, default="")
    # A line that is also a notice in Slack (reopened, handed over, cadence changed): the
    # notice's ts once it is posted; NULL until then, so the sweep posts it after a crash.
    notice_ts: Mapped[str | None] = mapped_column(String(32), default=None)

    crisis: Mapped[Crisis] = relationship(back_populates="timeline")


class SlackBudget(Base):
    """One of Slack's rate windows (a method's tier, or posts to one channel), shared by every
    replica of the app on PostgreSQL: the recent calls it counts, as database-clock seconds.

    Slack counts its limits per app per workspace, so all replicas take their calls from the
    same window (``bot/budget.py``), one short transaction holding the row ``FOR UPDATE``.
    """

    __tablename__ = "slack_budget"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True, server_default="")
    bucket: Mapped[str] = mapped_column(String(120), primary_key=True)
    calls: Mapped[list[float]] = mapped_column(JSON, default=list)
    # The latest call counted, to forget windows of channels posted to long ago.
    last_call: Mapped[float] = mapped_column(Float, default=0.0)


class ProcessedEvent(InWorkspace, Base):
    """Event ids already handled, because Slack retries deliveries and Bolt does not dedupe."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Reminder(InWorkspace, Base):
    """One reminder a crisis owed: claimed, then sent. The outbox that makes each go out once.

    ``(crisis_id, kind, due_at, version)`` names the reminder, so two sweeps can never both
    create it, and a sweep that died after sending finds it again and checks Slack first.
    """

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("crisis_id", "kind", "due_at", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    crisis_id: Mapped[int] = mapped_column(ForeignKey("crises.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ReminderKind] = mapped_column(StrEnumColumn(ReminderKind, 16))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)
    recipient: Mapped[str] = mapped_column(String(32))
    claimed_by: Mapped[str] = mapped_column(String(40))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Digest(InWorkspace, Base):
    """One weekly digest, claimed before it is posted: ``(team_id, week)`` is unique, so of
    all replicas one posts it; a claim whose lease ran out is taken over, and what the dead
    process had put in Slack is found again (the message by its key, the chart by its name).
    """

    __tablename__ = "digests"
    __table_args__ = (UniqueConstraint("team_id", "week"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The day the digest is for (its scheduled day), ISO: the week before it is reported.
    week: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(32))
    claimed_by: Mapped[str] = mapped_column(String(40))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The claiming process's lease, renewed by its heartbeat while it posts; once it has run
    # out (the process died) another replica takes the digest over.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    message_ts: Mapped[str | None] = mapped_column(String(32), default=None)
    file_id: Mapped[str | None] = mapped_column(String(32), default=None)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class ReminderMessage(InWorkspace, Base):
    """A message a reminder put in Slack (a nag DM, an escalation), so that once the update
    it asks for is posted, it can be edited to say so and lose its buttons."""

    __tablename__ = "reminder_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reminder_id: Mapped[int] = mapped_column(
        ForeignKey("reminders.id", ondelete="CASCADE"), index=True
    )
    # As the message was posted: a user id for a DM (the gateway finds the DM's channel).
    channel: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    # When it was edited to say the update was posted; None while it still asks for one.
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
