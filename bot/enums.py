"""The states and names the crisis logic compares. Stored as their values (plain strings in
the database and in Slack payloads); compared as members, so a typo is a type error."""

from __future__ import annotations

from enum import StrEnum


class CrisisStatus(StrEnum):
    """declaring -> open -> closed (and back to open on reopen)."""

    DECLARING = "declaring"
    OPEN = "open"
    CLOSED = "closed"


class Severity(StrEnum):
    SEV1 = "sev1"
    SEV2 = "sev2"
    SEV3 = "sev3"
    SEV4 = "sev4"


class CrisisKind(StrEnum):
    """Kinds of crisis a CSM meets, in the words of "Identifying crises"."""

    TECHNICAL_ISSUE = "technical_issue"
    SERVICE_OUTAGE = "service_outage"
    PERFORMANCE_PROBLEM = "performance_problem"
    CONTRACTUAL_DISPUTE = "contractual_dispute"
    BILLING_FINANCIAL = "billing_financial"
    COMMUNICATION_BREAKDOWN = "communication_breakdown"
    COMPLIANCE_REGULATORY = "compliance_regulatory"
    STRATEGIC_SHIFT = "strategic_shift"
    EMERGENCY_DISASTER = "emergency_disaster"
    QUESTION = "question"  # not a crisis: the declarer is pointed to self-service
    UNTRIAGED = "untriaged"  # declared without a kind; set later with `/crisis kind`


class TimelineKind(StrEnum):
    """What a timeline event records."""

    DECLARED = "declared"
    ACKNOWLEDGED = "acknowledged"
    UPDATE = "update"
    SNOOZED = "snoozed"
    HEADS_UP_SENT = "heads_up_sent"
    NAG_SENT = "nag_sent"
    ESCALATED = "escalated"
    OWNER_CHANGED = "owner_changed"
    RESPONDER_ADDED = "responder_added"
    RESPONDER_REMOVED = "responder_removed"
    SEVERITY_CHANGED = "severity_changed"
    KIND_CHANGED = "kind_changed"
    CADENCE_CHANGED = "cadence_changed"
    CLOSED = "closed"
    REOPENED = "reopened"
    FOLLOW_UP_SENT = "follow_up_sent"
    CHECKED_IN = "checked_in"


class ReminderKind(StrEnum):
    """What the sweep owes a crisis: a reminder, or work that stopped halfway."""

    HEADS_UP = "heads_up"
    OVERDUE = "overdue"
    ESCALATION = "escalation"
    FOLLOW_UP = "follow_up"
    FINISH_DECLARE = "finish_declare"
    FINISH_POSTS = "finish_posts"


class PromiseOutcome(StrEnum):
    """How a promise to the customer ended."""

    KEPT = "kept"  # on time
    LATE = "late"  # kept, after its due time
    BROKEN = "broken"  # still owed when the crisis closed, already overdue


class PromiseTold(StrEnum):
    """How a kept promise was kept."""

    TEAM = "team"  # an update in the crisis channel, or the closure
    CUSTOMER = "customer"  # a message sent to the customer


class AckVia(StrEnum):
    """How someone acknowledged a crisis."""

    BUTTON = "button"
    REACTION = "reaction"
    COMMAND = "command"
    ANNOUNCEMENT = "announcement"


class CustomerMessageStatus(StrEnum):
    """Where a message for the customer stands: a draft, sent to their channel, or told
    another way (copied into an email or read on a call)."""

    DRAFT = "draft"
    SENT = "sent"
    TOLD = "told"


class CustomerMessagePurpose(StrEnum):
    """What a message for the customer is: an update (framed with the next promise, and
    keeping the one made), or, after closure, the closing message or a check-in (sent as
    written; a closed crisis makes no promise)."""

    UPDATE = "update"
    CLOSURE = "closure"
    CHECK_IN = "check_in"
    # One outage told to many customers: rendered from the outage template per account.
    BROADCAST = "broadcast"


class Subcommand(StrEnum):
    """What follows ``/crisis``."""

    NEW = "new"
    LIST = "list"
    ACCOUNT = "account"
    ACCOUNTS = "accounts"
    REPORT = "report"
    HELP = "help"
    UPDATE = "update"
    CLOSE = "close"
    OWNER = "owner"
    ADD = "add"
    REMOVE = "remove"
    EVERY = "every"
    SEVERITY = "severity"
    KIND = "kind"
    ACK = "ack"
    STATUS = "status"
    REOPEN = "reopen"
    TELL = "tell"
    # One outage, many customers (run in the outage channel, but ``outage`` itself).
    OUTAGE = "outage"
    AFFECTED = "affected"
    UNAFFECTED = "unaffected"
    SPLIT = "split"
    BROADCAST = "broadcast"
