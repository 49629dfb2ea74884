"""Reminders driven by an injected clock: heads-up, overdue, escalation, stop, restart."""

from datetime import timedelta
from typing import Any

import pytest

from bot.config import Settings
from bot.db.models import Crisis, TimelineEvent
from bot.db.session import SessionFactory
from sandbox import Emulator
from scheduler.factory import build_scheduler
from scheduler.jobs import sweep_due
from scheduler.senders import Senders, release_claims
from tests.conftest import Clock, make_settings
from tests.harness import Bot

# Every database test here runs on SQLite and on a real PostgreSQL.
BOTH_DATABASES = True

ESCALATIONS = "C0ESCAL"


@pytest.fixture
def settings() -> Settings:
    return make_settings(escalation_channel=ESCALATIONS)


@pytest.fixture
def channel(bot: Bot, emulator: Emulator) -> str:
    """A sev1 crisis owned by ana: next update promised 30 minutes after declaring."""
    bot.command("new Acme Corp: dashboards empty sev1")
    found = emulator.channel_by_name("crisis-20261122-acme-corp")
    assert found is not None
    return found.id


def nags(emulator: Emulator, user: str = "U0ANA") -> list[str]:
    """Reminder DMs (the owner's commitment DM at declare time left out)."""
    return [m.text for m in emulator.dm_messages(user) if "You own the crisis" not in m.text]


def sweep_at(bot: Bot, clock: Clock, **delta: float) -> list[str]:
    clock.current = bot.clock.current.replace(hour=14, minute=0, second=0) + timedelta(**delta)
    return [s.kind for s in bot.sweep()]


def test_heads_up_then_overdue_then_escalation_then_repeats(
    bot: Bot, emulator: Emulator, clock: Clock, channel: str
) -> None:
    assert sweep_at(bot, clock, minutes=19, seconds=59) == []
    assert sweep_at(bot, clock, minutes=20) == ["heads_up"]
    assert "Heads-up: the next update to *Acme Corp* is due" in nags(emulator)[-1]
    assert sweep_at(bot, clock, minutes=25) == []
    assert sweep_at(bot, clock, minutes=30) == ["overdue"]
    overdue = emulator.dm_messages("U0ANA")[-1]
    assert "was due" in overdue.text and "has not been posted" in overdue.text
    assert [e["text"]["text"] for e in overdue.blocks[-1]["elements"]] == [
        "Post update",
        "Snooze 15m",
        "Hand over",
    ]
    assert sweep_at(bot, clock, minutes=39) == []
    assert sweep_at(bot, clock, minutes=40) == ["overdue"]
    assert "(reminder 2)" in nags(emulator)[-1]
    assert sweep_at(bot, clock, minutes=50) == ["overdue"]
    assert sweep_at(bot, clock, minutes=60) == ["overdue", "escalation"]
    escalation = emulator.messages(ESCALATIONS)[-1].text
    assert escalation.startswith(":sos: *Escalation:* the crisis for *Acme Corp*")
    assert "30m past its promised update" in escalation and "Owner: <@U0ANA>" in escalation
    note = emulator.messages(channel)[-1].text
    assert f"30m overdue, so I have escalated in <#{ESCALATIONS}>." in note
    told = nags(emulator)[-1]
    assert told.startswith(
        f":sos: Escalated in <#{ESCALATIONS}> and <#{channel}>: the update to *Acme Corp* is 30m"
        " past its promised time"
    )
    assert sweep_at(bot, clock, minutes=70) == ["overdue"]  # nags go on, escalation does not
    assert len(emulator.messages(ESCALATIONS)) == 1
    with bot.deps.session_factory() as session:
        kinds = [e.kind for e in session.query(TimelineEvent).order_by(TimelineEvent.id)]
    assert kinds == ["declared", "heads_up_sent"] + ["nag_sent"] * 4 + ["escalated", "nag_sent"]


def test_an_update_stops_the_nags_and_starts_a_new_clock(
    bot: Bot, emulator: Emulator, clock: Clock, channel: str
) -> None:
    sweep_at(bot, clock, minutes=30)
    assert len(nags(emulator)) == 1
    clock.current = clock.current + timedelta(minutes=5)  # 14:35
    bot.command("update Still investigating; next update at 15:05", channel=channel)
    assert sweep_at(bot, clock, minutes=40) == []  # the old nag time passes silently
    assert sweep_at(bot, clock, minutes=54) == []
    assert sweep_at(bot, clock, minutes=55) == ["heads_up"]  # new promise 15:05, 10m lead
    assert sweep_at(bot, clock, minutes=60) == []  # the old escalation time passes silently
    assert sweep_at(bot, clock, minutes=65) == ["overdue"]


def test_closing_stops_every_nag_and_sends_one_follow_up(
    bot: Bot, emulator: Emulator, clock: Clock, channel: str
) -> None:
    sweep_at(bot, clock, minutes=30)
    clock.current = clock.current + timedelta(minutes=1)
    bot.command("close Fixed", channel=channel)
    before = len(nags(emulator))
    for minutes in (40, 60, 90, 24 * 60):
        assert sweep_at(bot, clock, minutes=minutes) == []
    assert len(nags(emulator)) == before
    assert sweep_at(bot, clock, days=3, minutes=31) == ["follow_up"]
    assert "Time to check in with *Acme Corp*" in nags(emulator)[-1]
    assert sweep_at(bot, clock, days=5) == []


def test_snooze_holds_the_nags_but_the_card_still_says_overdue(
    bot: Bot, emulator: Emulator, clock: Clock, channel: str
) -> None:
    sweep_at(bot, clock, minutes=30)
    with bot.deps.session_factory() as session:
        crisis_id = session.query(Crisis).one().id
    dm_channel = emulator.dm_channel("U0ANA")
    bot.click("nag_snooze", str(crisis_id), channel=dm_channel)
    assert any("Snoozed until" in p.text for p in emulator.response_posts)
    assert sweep_at(bot, clock, minutes=40) == []
    assert sweep_at(bot, clock, minutes=45) == ["overdue"]
    card = str(emulator.messages(channel)[0].blocks)
    assert "*Update overdue* since" in card
    with bot.deps.session_factory() as session:
        kinds = [e.kind for e in session.query(TimelineEvent).order_by(TimelineEvent.id)]
    assert "snoozed" in kinds


def test_hand_over_from_the_nag_moves_the_next_nag(
    bot: Bot, emulator: Emulator, clock: Clock, channel: str
) -> None:
    sweep_at(bot, clock, minutes=30)
    with bot.deps.session_factory() as session:
        crisis_id = session.query(Crisis).one().id
    bot.click("nag_open_hand_over", str(crisis_id), channel=emulator.dm_channel("U0ANA"))
    view = emulator.open_views("U0ANA")[-1].view
    # Opened from a DM, the form says which crisis it hands over.
    assert f"the crisis for *Acme Corp* (<#{channel}>)" in view["blocks"][0]["elements"][0]["text"]
    bot.submit(view, {"owner": {"type": "users_select", "selected_user": "U0BEN"}})
    assert sweep_at(bot, clock, minutes=40) == ["overdue"]
    assert "has not been posted" in nags(emulator, "U0BEN")[-1]


def test_a_restart_sends_what_fell_due_once_and_repeats_nothing(
    bot: Bot,
    emulator: Emulator,
    clock: Clock,
    channel: str,
    settings: Settings,
    session_factory: SessionFactory,
) -> None:
    assert sweep_at(bot, clock, minutes=20) == ["heads_up"]
    bot.close()  # the bot goes down for 45 minutes: two nags and the escalation fall due
    clock.current = clock.current + timedelta(minutes=45)
    again = Bot(settings=settings, session_factory=session_factory, clock=clock, emulator=emulator)
    try:
        assert [s.kind for s in again.sweep()] == ["overdue", "escalation"]
        assert [s.kind for s in again.sweep()] == []
        reminders = [n for n in nags(emulator) if not n.startswith(":sos: Escalated")]
        assert len(reminders) == 2  # heads-up and one overdue nag, not three
        assert len(nags(emulator)) == 3  # and the owner told where it was escalated, once
        assert len(emulator.messages(ESCALATIONS)) == 1
    finally:
        again.close()


def test_a_failed_dm_is_retried_not_lost(
    bot: Bot, emulator: Emulator, clock: Clock, channel: str
) -> None:
    emulator.fail_next("chat.postMessage", error="fatal_error", status=200)
    assert sweep_at(bot, clock, minutes=20) == []
    assert sweep_at(bot, clock, minutes=20, seconds=30) == []  # waits before retrying
    assert sweep_at(bot, clock, minutes=21) == ["heads_up"]


def test_the_apscheduler_job_sweeps_every_tick(
    emulator: Emulator, clock: Clock, session_factory: SessionFactory
) -> None:
    settings = make_settings(tick="1s")
    bot = Bot(settings=settings, session_factory=session_factory, clock=clock, emulator=emulator)
    try:
        bot.command("new Acme Corp: dashboards empty sev1")
        senders = Senders.start(bot.deps)
        scheduler = build_scheduler(bot.deps, senders)
        scheduler.start()
        try:
            clock.advance(minutes=31)
            emulator.wait_for(lambda: len(nags(emulator)) == 1, timeout=5)
            assert "has not been posted" in nags(emulator)[0]
        finally:
            scheduler.shutdown(wait=True)
            senders.shutdown()
        with bot.deps.session_factory() as session:
            crisis = session.query(Crisis).one()
            # Recorded by the recorder: the crisis moved on to its next nag.
            assert crisis.nags_sent == 1 and crisis.claimed_by is None
            assert crisis.next_check_at == crisis.last_nag_at + settings.nag_every
    finally:
        bot.close()


def test_the_scheduler_senders_send_what_fell_due_together_in_one_sweep(
    bot: Bot, emulator: Emulator, clock: Clock, channel: str
) -> None:
    assert sweep_at(bot, clock, minutes=20) == ["heads_up"]
    # Down for 45 minutes: an overdue nag and the escalation are due at the same sweep. The
    # recorder records the nag, and hands the crisis straight back for the escalation.
    clock.current = clock.current + timedelta(minutes=45)
    senders = Senders.start(bot.deps)
    try:
        sweep_due(bot.deps, senders)
        emulator.wait_for(lambda: len(emulator.messages(ESCALATIONS)) == 1, timeout=10)
    finally:
        senders.shutdown()
    assert [n for n in nags(emulator) if "has not been posted" in n] == [nags(emulator)[-2]]
    assert nags(emulator)[-1].startswith(":sos: Escalated in")
    assert "I have escalated" in emulator.messages(channel)[-1].text
    with bot.deps.session_factory() as session:
        crisis = session.query(Crisis).one()
        assert crisis.nags_sent == 1 and crisis.escalated_at == clock.current
        assert crisis.claimed_by is None
        assert crisis.next_check_at == clock.current + bot.deps.settings.nag_every
        kinds = [e.kind for e in session.query(TimelineEvent).order_by(TimelineEvent.id)]
    assert kinds == ["declared", "heads_up_sent", "nag_sent", "escalated"]


def test_a_reminder_due_next_when_the_senders_stop_is_left_due_for_the_next_sweep(
    bot: Bot, emulator: Emulator, clock: Clock, channel: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert sweep_at(bot, clock, minutes=20) == ["heads_up"]
    clock.current = clock.current + timedelta(minutes=45)  # the nag and escalation both due
    senders = Senders.start(bot.deps)
    real_put = senders.recorder.put

    def stop_then_put(posted: Any, *args: Any) -> None:
        senders.pool.shutdown(wait=False)  # the process is stopping: no new sends
        real_put(posted, *args)

    monkeypatch.setattr(senders.recorder, "put", stop_then_put)
    sweep_due(bot.deps, senders)
    senders.shutdown()
    assert release_claims(bot.deps) == 1  # as the process stops (Runtime.close)
    assert emulator.messages(ESCALATIONS) == []
    with bot.deps.session_factory() as session:
        crisis = session.query(Crisis).one()
        # The nag is recorded; the claim is given up with the escalation due now, not leased.
        assert crisis.nags_sent == 1 and crisis.claimed_by is None
        assert crisis.next_check_at == clock.current
    assert [s.kind for s in bot.sweep()] == ["escalation"]
    assert len(emulator.messages(ESCALATIONS)) == 1
