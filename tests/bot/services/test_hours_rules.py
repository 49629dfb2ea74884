"""The customer's business hours (promises) and the owner's working hours (reminders), with
an injected clock across daylight-saving changes."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import ConfigError
from bot.db.models import Account, Crisis
from bot.enums import ReminderKind
from bot.services.schedule import next_reminder, promise
from tests.conftest import make_settings

ESCALATION, HEADS_UP, OVERDUE = ReminderKind.ESCALATION, ReminderKind.HEADS_UP, ReminderKind.OVERDUE

NEW_YORK = ZoneInfo("America/New_York")
JERUSALEM = ZoneInfo("Asia/Jerusalem")
DAY = timedelta(days=1)


def local(text: str, zone: ZoneInfo) -> datetime:
    """A wall-clock time in ``zone``, as the aware UTC instant it is."""
    return datetime.fromisoformat(text).replace(tzinfo=zone).astimezone(UTC)


def account(zone: str, hours: str = "Mon-Fri 09:00-17:00") -> Account:
    return Account(id=1, name="Globex Corp", timezone=zone, business_hours=hours)


# The customer's business hours: where a promise falls


def test_a_sev4_on_friday_evening_is_promised_for_monday_opening() -> None:
    friday = local("2026-11-27T18:00", NEW_YORK)
    promised = promise(
        now=friday, cadence=DAY, severity="sev4", account=account("America/New_York")
    )
    assert promised.at == local("2026-11-30T09:00", NEW_YORK)
    assert promised.zone == "America/New_York"


def test_within_business_hours_the_promise_is_now_plus_the_cadence() -> None:
    tuesday = local("2026-11-24T10:00", NEW_YORK)
    promised = promise(
        now=tuesday,
        cadence=timedelta(hours=4),
        severity="sev3",
        account=account("America/New_York"),
    )
    assert (promised.at, promised.zone) == (tuesday + timedelta(hours=4), None)


@pytest.mark.parametrize("severity", ["sev1", "sev2"])
def test_sev1_and_sev2_are_promised_round_the_clock(severity: str) -> None:
    friday = local("2026-11-27T18:00", NEW_YORK)
    promised = promise(now=friday, cadence=DAY, severity=severity, account=account("UTC"))
    assert (promised.at, promised.zone) == (friday + DAY, None)


def test_without_an_account_there_are_no_business_hours() -> None:
    friday = local("2026-11-27T18:00", NEW_YORK)
    promised = promise(now=friday, cadence=DAY, severity="sev4", account=None)
    assert (promised.at, promised.zone) == (friday + DAY, None)


@pytest.mark.parametrize(
    ("declared", "opening"),
    [
        # Spring forward on Sunday 8 March: Monday opens at 09:00 EDT (13:00 UTC), not 14:00.
        ("2026-03-06T18:00", "2026-03-09T09:00"),
        # Fall back on Sunday 1 November: Monday opens at 09:00 EST (14:00 UTC), not 13:00.
        ("2026-10-30T18:00", "2026-11-02T09:00"),
    ],
)
def test_new_york_promises_open_at_nine_across_daylight_saving(declared: str, opening: str) -> None:
    promised = promise(
        now=local(declared, NEW_YORK),
        cadence=DAY,
        severity="sev4",
        account=account("America/New_York"),
    )
    assert promised.at == local(opening, NEW_YORK)
    assert promised.at.astimezone(NEW_YORK).strftime("%A %H:%M") == "Monday 09:00"


@pytest.mark.parametrize(
    ("declared", "opening", "utc"),
    [
        # Israel springs forward on Friday 27 March: Sunday opens at 08:30 IDT (+03).
        ("2026-03-26T18:00", "2026-03-29T08:30", "2026-03-29T05:30"),
        # ... and falls back on Sunday 25 October, at 02:00: 08:30 IST (+02) that morning.
        ("2026-10-22T18:00", "2026-10-25T08:30", "2026-10-25T06:30"),
    ],
)
def test_a_sunday_to_thursday_week_in_jerusalem_across_daylight_saving(
    declared: str, opening: str, utc: str
) -> None:
    # Thursday evening + 1 day is Friday: the next business morning is Sunday.
    promised = promise(
        now=local(declared, JERUSALEM),
        cadence=DAY,
        severity="sev4",
        account=account("Asia/Jerusalem", "Sun-Thu 08:30-17:30"),
    )
    assert promised.at == local(opening, JERUSALEM) == datetime.fromisoformat(utc + "+00:00")
    assert promised.zone == "Asia/Jerusalem"


# The owner's working hours: when reminders reach them


def crisis(severity: str, due: datetime, *, owner_timezone: str | None) -> Crisis:
    return Crisis(
        status="open",
        severity=severity,
        declared_at=due - timedelta(hours=4),
        committed_at=due - timedelta(hours=4),
        version=0,
        nags_sent=0,
        next_update_due_at=due,
        owner_timezone=owner_timezone,
    )


def test_sev3_reminders_wait_for_the_owners_monday_across_the_spring_change() -> None:
    settings = make_settings()  # Mon-Fri 09:00-18:00, 10m lead, 30m escalation
    due = local("2026-03-07T02:00", NEW_YORK)  # Saturday night, owner in New York
    owed = crisis("sev3", due, owner_timezone="America/New_York")
    monday = local("2026-03-09T09:00", NEW_YORK)
    # No heads-up: held past the due time, the overdue reminder says it instead.
    first = next_reminder(owed, settings, due - timedelta(hours=1))
    assert first is not None and (first.kind, first.at) == (OVERDUE, monday)
    assert monday.hour == 13  # EDT: one hour earlier in UTC than the week before
    owed.last_nag_at, owed.nags_sent, owed.heads_up_sent_at = monday, 1, monday
    later = next_reminder(owed, settings, monday)
    # Nags go on in working hours; escalation comes escalate_after past the first reminder.
    assert later is not None and (later.kind, later.at) == (OVERDUE, monday + timedelta(minutes=10))
    owed.last_nag_at = monday + timedelta(minutes=25)
    escalation = next_reminder(owed, settings, owed.last_nag_at)
    assert escalation is not None
    assert (escalation.kind, escalation.at) == (ESCALATION, monday + timedelta(minutes=30))


def test_the_owners_evening_carries_the_nag_to_the_next_morning_across_the_autumn_change() -> None:
    settings = make_settings()
    due = local("2026-10-30T17:55", NEW_YORK)  # Friday before closing
    owed = crisis("sev4", due, owner_timezone="America/New_York")
    heads_up = next_reminder(owed, settings, due - timedelta(hours=1))
    assert heads_up is not None and (heads_up.kind, heads_up.at) == (
        HEADS_UP,
        due - timedelta(minutes=10),
    )
    owed.heads_up_sent_at = heads_up.at
    overdue = next_reminder(owed, settings, heads_up.at)
    assert overdue is not None and (overdue.kind, overdue.at) == (OVERDUE, due)
    owed.last_nag_at, owed.nags_sent = due, 1
    # 18:05 is after hours: the next nag is Monday 09:00 EST, 14:00 UTC.
    again = next_reminder(owed, settings, due)
    assert again is not None and again.at == local("2026-11-02T09:00", NEW_YORK)
    assert again.at.hour == 14


@pytest.mark.parametrize(
    ("due", "sunday_utc"),
    [
        # Friday 27 March, the day the clocks go forward: Sunday 08:30 is UTC+3.
        ("2026-03-27T11:00", datetime(2026, 3, 29, 5, 30, tzinfo=UTC)),
        # Friday 23 October; they go back at 02:00 on Sunday 25: 08:30 is UTC+2 again.
        ("2026-10-23T11:00", datetime(2026, 10, 25, 6, 30, tzinfo=UTC)),
    ],
)
def test_a_sunday_to_thursday_owner_in_jerusalem_is_reminded_on_sunday(
    due: str, sunday_utc: datetime
) -> None:
    settings = make_settings(working_hours="Sun-Thu 08:30-17:30")
    owed = crisis("sev3", local(due, JERUSALEM), owner_timezone="Asia/Jerusalem")
    first = next_reminder(owed, settings, local(due, JERUSALEM) - timedelta(hours=1))
    assert first is not None and (first.kind, first.at) == (OVERDUE, sunday_utc)
    assert first.at.astimezone(JERUSALEM).strftime("%A %H:%M") == "Sunday 08:30"


def test_sev1_reminds_at_three_in_the_morning() -> None:
    settings = make_settings()
    due = local("2026-03-08T03:00", NEW_YORK)  # Sunday, just after the spring change
    owed = crisis("sev1", due, owner_timezone="America/New_York")
    heads_up = next_reminder(owed, settings, due - timedelta(hours=1))
    assert heads_up is not None and (heads_up.kind, heads_up.at) == (
        HEADS_UP,
        due - timedelta(minutes=10),
    )


def test_an_owner_with_no_time_zone_keeps_the_teams_zone() -> None:
    settings = make_settings(timezone="Asia/Jerusalem", working_hours="Sun-Thu 08:30-17:30")
    due = local("2026-11-27T12:00", JERUSALEM)  # Friday
    owed = crisis("sev3", due, owner_timezone=None)
    first = next_reminder(owed, settings, due - timedelta(hours=1))
    assert first is not None and first.at == local("2026-11-29T08:30", JERUSALEM)


def test_working_hours_are_checked_at_start_with_one_line() -> None:
    assert make_settings().working_hours == "Mon-Fri 09:00-18:00"
    assert make_settings(working_hours="sun-thu 8:30-17:30").working_hours == "Sun-Thu 08:30-17:30"
    with pytest.raises(ConfigError) as error:
        make_settings(working_hours="weekdays 9 to 5")
    message = str(error.value)
    assert message.startswith("CRISISBOT_WORKING_HOURS: 'weekdays 9 to 5' is not working hours")
    assert "Mon-Fri 09:00-17:00" in message and "\n" not in message
