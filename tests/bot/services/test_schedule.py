"""The pure rule that says which reminder a crisis owes next."""

from datetime import timedelta

from bot.db.models import Crisis
from bot.enums import ReminderKind
from bot.services.schedule import new_commitment, next_reminder
from tests.conftest import T0, make_settings

SETTINGS = make_settings()


def open_crisis(**fields: object) -> Crisis:
    crisis = Crisis(
        status="open",
        declared_at=T0,
        committed_at=T0,
        version=0,
        nags_sent=0,
        next_update_due_at=T0 + timedelta(hours=1),
    )
    for key, value in fields.items():
        setattr(crisis, key, value)
    return crisis


def test_heads_up_comes_lead_before_the_due_time() -> None:
    due = next_reminder(open_crisis(), SETTINGS, T0)
    assert due is not None and (due.kind, due.at) == (
        ReminderKind.HEADS_UP,
        T0 + timedelta(minutes=50),
    )


def test_heads_up_off_with_zero_lead() -> None:
    due = next_reminder(open_crisis(), make_settings(reminder_lead="0"), T0)
    assert due is not None and (due.kind, due.at) == (ReminderKind.OVERDUE, T0 + timedelta(hours=1))


def test_no_heads_up_when_the_lead_is_longer_than_the_promise() -> None:
    crisis = open_crisis(next_update_due_at=T0 + timedelta(minutes=5))
    due = next_reminder(crisis, SETTINGS, T0)
    assert due is not None and due.kind == ReminderKind.OVERDUE


def test_after_the_heads_up_the_overdue_nag_is_at_the_due_time_then_every_nag_every() -> None:
    crisis = open_crisis(heads_up_sent_at=T0 + timedelta(minutes=50))
    due = next_reminder(crisis, SETTINGS, T0 + timedelta(minutes=51))
    assert due is not None and (due.kind, due.at) == (ReminderKind.OVERDUE, T0 + timedelta(hours=1))
    crisis.last_nag_at = T0 + timedelta(hours=1)
    due = next_reminder(crisis, SETTINGS, T0 + timedelta(hours=1))
    assert due is not None and (due.kind, due.at) == (
        ReminderKind.OVERDUE,
        T0 + timedelta(minutes=70),
    )


def test_escalation_once_escalate_after_overdue() -> None:
    crisis = open_crisis(heads_up_sent_at=T0, last_nag_at=T0 + timedelta(minutes=85))
    due = next_reminder(crisis, SETTINGS, T0 + timedelta(minutes=86))
    assert due is not None and (due.kind, due.at) == (
        ReminderKind.ESCALATION,
        T0 + timedelta(minutes=90),
    )
    crisis.escalated_at = T0 + timedelta(minutes=90)
    due = next_reminder(crisis, SETTINGS, T0 + timedelta(minutes=90))
    assert due is not None and due.kind == ReminderKind.OVERDUE


def test_snooze_holds_the_nag_but_not_the_escalation() -> None:
    crisis = open_crisis(
        heads_up_sent_at=T0,
        last_nag_at=T0 + timedelta(hours=1),
        snoozed_until=T0 + timedelta(minutes=75),
    )
    due = next_reminder(crisis, SETTINGS, T0 + timedelta(hours=1))
    assert due is not None and (due.kind, due.at) == (
        ReminderKind.OVERDUE,
        T0 + timedelta(minutes=75),
    )
    crisis.snoozed_until = T0 + timedelta(hours=3)
    due = next_reminder(crisis, SETTINGS, T0 + timedelta(hours=1))
    assert due is not None and (due.kind, due.at) == (
        ReminderKind.ESCALATION,
        T0 + timedelta(minutes=90),
    )


def test_a_new_commitment_resets_every_reminder() -> None:
    crisis = open_crisis(
        heads_up_sent_at=T0, last_nag_at=T0, nags_sent=3, escalated_at=T0, snoozed_until=T0
    )
    now = T0 + timedelta(hours=2)
    new_commitment(crisis, SETTINGS, due=now + timedelta(hours=1), now=now)
    assert (crisis.heads_up_sent_at, crisis.last_nag_at, crisis.escalated_at) == (None,) * 3
    assert crisis.nags_sent == 0 and crisis.version == 1
    assert crisis.next_check_at == now + timedelta(minutes=50)


def test_closed_crises_owe_only_the_follow_up() -> None:
    crisis = open_crisis(status="closed", closed_at=T0, follow_up_due_at=T0 + timedelta(days=3))
    due = next_reminder(crisis, SETTINGS, T0)
    assert due is not None and (due.kind, due.at) == (
        ReminderKind.FOLLOW_UP,
        T0 + timedelta(days=3),
    )
    crisis.follow_up_sent_at = T0 + timedelta(days=3)
    assert next_reminder(crisis, SETTINGS, T0 + timedelta(days=3)) is None


def test_a_half_declared_crisis_is_resumed() -> None:
    crisis = open_crisis(status="declaring")
    due = next_reminder(crisis, SETTINGS, T0)
    assert due is not None and due.kind == ReminderKind.FINISH_DECLARE and due.at > T0
