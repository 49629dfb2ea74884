"""When each reminder of a crisis falls due, and when an update is promised. Pure functions
of the row and the settings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config import Settings
from bot.db.models import Account, Crisis
from bot.enums import CrisisStatus, ReminderKind, Severity
from bot.hours import HoursError, WorkingHours

log = logging.getLogger(__name__)


# Severities that keep to the customer's business hours (promises) and the owner's working
# hours (reminders); sev1 and sev2 are promised and reminded about at any hour.
OFFICE_HOURS = (Severity.SEV3, Severity.SEV4)


@dataclass(frozen=True)
class Promise:
    """When the next update is promised; ``zone`` is the customer's time zone when the time
    was moved to the opening of their business hours (None when it was not moved)."""

    at: datetime
    zone: str | None = None


def promise(
    *, now: datetime, cadence: timedelta, severity: str, account: Account | None
) -> Promise:
    """The one rule for every promise (declaring, each update, reopening): ``now + cadence``;
    for sev3 and sev4 of an account, moved to its next business opening if that falls outside
    its business hours in its time zone. sev1, sev2 and crises without an account: any hour."""
    due = now + cadence
    if account is None or severity not in OFFICE_HOURS:
        return Promise(due)
    zone = _zone(account.timezone)
    try:
        hours = _hours(account.business_hours)
    except HoursError:
        hours = None
    if zone is None or hours is None:
        # Imports check both; a row edited by hand is promised at any hour, not refused.
        log.warning("account %s has unusable hours or time zone; promising at any hour", account.id)
        return Promise(due)
    opening = hours.next_open(due, zone)
    return Promise(opening, account.timezone if opening != due else None)


def owner_zone(crisis: Crisis, settings: Settings) -> ZoneInfo:
    """The owner's time zone as Slack gave it when they became owner, else
    ``CRISISBOT_TIMEZONE``."""
    return _zone(crisis.owner_timezone or "") or _zone(settings.timezone) or ZoneInfo("UTC")


def _owner_hours(crisis: Crisis, settings: Settings) -> Callable[[datetime], datetime]:
    """When a reminder due at some moment may go to the owner: at once for sev1 and sev2,
    else at the next moment within their working hours."""
    if crisis.severity not in OFFICE_HOURS:
        return lambda at: at
    hours = settings.owner_hours()
    zone = owner_zone(crisis, settings)
    return lambda at: hours.next_open(at, zone)


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


@lru_cache(maxsize=512)
def _hours(text: str) -> WorkingHours:
    return WorkingHours.parse(text)


@dataclass(frozen=True)
class Due:
    """The next reminder of a crisis and when it falls due."""

    kind: ReminderKind
    at: datetime


def next_reminder(crisis: Crisis, settings: Settings, now: datetime) -> Due | None:
    """The earliest reminder this crisis still owes, or None. Pure: reads only the row."""
    # Work that stopped halfway (a declaration, or a message recorded but maybe not yet in
    # Slack, after a crash or a Slack error) is finished by the sweep one lease after it
    # began; while the work is alive, its process renews the lease (bot/services/leases.py).
    if crisis.status == CrisisStatus.DECLARING:
        return Due(ReminderKind.FINISH_DECLARE, crisis.declared_at + settings.lease)
    if crisis.pending_since is not None:
        # Recorded but maybe never posted: finish that before anything.
        return Due(ReminderKind.FINISH_POSTS, crisis.pending_since + settings.lease)
    if crisis.status == CrisisStatus.CLOSED:
        if crisis.follow_up_due_at and crisis.follow_up_sent_at is None:
            return Due(ReminderKind.FOLLOW_UP, crisis.follow_up_due_at)
        return None
    due = crisis.next_update_due_at
    if due is None:
        return None
    candidates: list[Due] = []
    # sev3 and sev4 reminders wait for the owner's working hours: the time a reminder waits
    # for is its due time here, so a restart or another replica computes the same.
    owner_hours = _owner_hours(crisis, settings)
    first_nag = owner_hours(due)
    lead = settings.reminder_lead
    committed = crisis.committed_at or crisis.declared_at
    if (
        lead
        and crisis.heads_up_sent_at is None
        and now < due
        # A heads-up before the promise was even made would be noise.
        and due - lead > committed
        # Held until the update is due, the overdue reminder says it instead.
        and owner_hours(due - lead) < first_nag
    ):
        candidates.append(Due(ReminderKind.HEADS_UP, owner_hours(due - lead)))
    nag_at = due if crisis.last_nag_at is None else crisis.last_nag_at + settings.nag_every
    if crisis.snoozed_until and crisis.snoozed_until > nag_at:
        nag_at = crisis.snoozed_until
    candidates.append(Due(ReminderKind.OVERDUE, owner_hours(nag_at)))
    if crisis.escalated_at is None:
        # Counted from the first overdue reminder the owner could see, not from a night.
        candidates.append(
            Due(ReminderKind.ESCALATION, owner_hours(first_nag + settings.escalate_after))
        )
    return min(candidates, key=lambda d: d.at)


def reschedule(crisis: Crisis, settings: Settings, now: datetime) -> None:
    """Set ``next_check_at`` from the crisis's state (the caller commits)."""
    due = next_reminder(crisis, settings, now)
    crisis.next_check_at = due.at if due else None


def new_commitment(
    crisis: Crisis, settings: Settings, *, due: datetime, now: datetime, zone: str | None = None
) -> None:
    """Promise the next update by ``due`` and restart the reminder clock; ``zone`` as in
    ``Promise``."""
    crisis.next_update_due_at = due
    crisis.promised_in_zone = zone
    crisis.committed_at = now
    crisis.heads_up_sent_at = None
    crisis.last_nag_at = None
    crisis.nags_sent = 0
    crisis.escalated_at = None
    crisis.snoozed_until = None
    crisis.version += 1
    reschedule(crisis, settings, now)
