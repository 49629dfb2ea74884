"""When each reminder of a crisis falls due. Pure functions of the row and the settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config import Settings
from bot.db.models import Crisis
from bot.enums import CrisisStatus, ReminderKind

# Work that stopped halfway (a declaration, or an update or closure not yet in Slack, after a
# crash or a Slack error) is finished by the sweep after this. It must outlast work that is
# only waiting its turn under Slack's rate limits (up to a minute or two in a mass outage), or
# the sweep would race the work still running.
RESUME_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class Due:
    """The next reminder of a crisis and when it falls due."""

    kind: ReminderKind
    at: datetime


def next_reminder(crisis: Crisis, settings: Settings, now: datetime) -> Due | None:
    """The earliest reminder this crisis still owes, or None. Pure: reads only the row."""
    if crisis.status == CrisisStatus.DECLARING:
        return Due(ReminderKind.FINISH_DECLARE, crisis.declared_at + RESUME_AFTER)
    if crisis.pending_since is not None:
        # An update or closure recorded but maybe never posted: finish that before anything.
        return Due(ReminderKind.FINISH_POSTS, crisis.pending_since + RESUME_AFTER)
    if crisis.status == CrisisStatus.CLOSED:
        if crisis.follow_up_due_at and crisis.follow_up_sent_at is None:
            return Due(ReminderKind.FOLLOW_UP, crisis.follow_up_due_at)
        return None
    due = crisis.next_update_due_at
    if due is None:
        return None
    candidates: list[Due] = []
    lead = settings.reminder_lead
    committed = crisis.committed_at or crisis.declared_at
    if (
        lead
        and crisis.heads_up_sent_at is None
        and now < due
        # A heads-up before the promise was even made would be noise.
        and due - lead > committed
    ):
        candidates.append(Due(ReminderKind.HEADS_UP, due - lead))
    nag_at = due if crisis.last_nag_at is None else crisis.last_nag_at + settings.nag_every
    if crisis.snoozed_until and crisis.snoozed_until > nag_at:
        nag_at = crisis.snoozed_until
    candidates.append(Due(ReminderKind.OVERDUE, nag_at))
    if crisis.escalated_at is None:
        candidates.append(Due(ReminderKind.ESCALATION, due + settings.escalate_after))
    return min(candidates, key=lambda d: d.at)


def reschedule(crisis: Crisis, settings: Settings, now: datetime) -> None:
    """Set ``next_check_at`` from the crisis's state (the caller commits)."""
    due = next_reminder(crisis, settings, now)
    crisis.next_check_at = due.at if due else None


def new_commitment(crisis: Crisis, settings: Settings, *, due: datetime, now: datetime) -> None:
    """Promise the next update by ``due`` and restart the reminder clock."""
    crisis.next_update_due_at = due
    crisis.committed_at = now
    crisis.heads_up_sent_at = None
    crisis.last_nag_at = None
    crisis.nags_sent = 0
    crisis.escalated_at = None
    crisis.snoozed_until = None
    crisis.version += 1
    reschedule(crisis, settings, now)
