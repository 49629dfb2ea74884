"""Each reminder goes out exactly once: across a crash at any point, and across sweeps at once."""

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from bot.db.models import Crisis, Reminder, TimelineEvent
from bot.services import reminders
from bot.services.leases import Claims
from sandbox import Emulator
from sandbox.faults import DROP, Failure
from scheduler.jobs import sweep_due
from scheduler.senders import Senders
from tests.conftest import Clock
from tests.harness import Bot

# Every database test here runs on SQLite and on a real PostgreSQL.
BOTH_DATABASES = True


class Killed(BaseException):
    """Stands in for SIGKILL: nothing after it runs, no except clause catches it."""


def overdue_dms(emulator: Emulator) -> list[str]:
    return [m.text for m in emulator.dm_messages("U0ANA") if "has not been posted" in m.text]


@pytest.fixture
def overdue(bot: Bot, clock: Clock) -> Clock:
    """A crisis whose heads-up went out and whose update is now due."""
    bot.command("new Acme Corp: dashboards empty sev1")
    clock.advance(minutes=20)
    assert [s.kind for s in bot.sweep()] == ["heads_up"]
    clock.advance(minutes=10)
    return clock


def test_killed_after_sending_before_recording_does_not_send_again(
    bot: Bot, emulator: Emulator, overdue: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def die(*args: object, **kwargs: object) -> None:
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(reminders, "_mark_sent", die)
        with pytest.raises(Killed):
            bot.sweep()
    assert len(overdue_dms(emulator)) == 1
    assert bot.sweep() == []  # the claim's lease still hides it
    overdue.advance(seconds=bot.deps.settings.lease.total_seconds() + 1)
    assert [s.kind for s in bot.sweep()] == ["overdue"]
    assert len(overdue_dms(emulator)) == 1  # found in Slack by its key, not sent again
    with bot.deps.session_factory() as session:
        (row,) = session.query(Reminder).filter_by(kind="overdue").all()
        assert row.attempts == 2 and row.sent_at is not None
        assert session.query(Crisis).one().nags_sent == 1


def test_killed_before_sending_sends_once_the_lease_runs_out(
    bot: Bot, emulator: Emulator, overdue: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def die(*args: object, **kwargs: object) -> None:
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(reminders, "_deliver", die)
        with pytest.raises(Killed):
            bot.sweep()
    assert overdue_dms(emulator) == []
    overdue.advance(seconds=bot.deps.settings.lease.total_seconds() + 1)
    assert [s.kind for s in bot.sweep()] == ["overdue"]
    assert len(overdue_dms(emulator)) == 1


@pytest.mark.parametrize("status", [DROP, 500])
def test_a_nag_slack_took_before_the_answer_was_lost_goes_out_once(
    bot: Bot, emulator: Emulator, overdue: Clock, status: int
) -> None:
    # Slack posts the nag, then the connection drops (or a 5xx comes) before its answer.
    emulator.faults.script("chat.postMessage", Failure("internal_error", status, apply=True), 1)
    assert [s.kind for s in bot.sweep()] == ["overdue"]
    assert len(overdue_dms(emulator)) == 1  # found by its key, not sent again
    with bot.deps.session_factory() as session:
        (row,) = session.query(Reminder).filter_by(kind="overdue").all()
        assert row.attempts == 1 and row.sent_at is not None
        assert session.query(Crisis).one().nags_sent == 1


def test_sweeps_running_at_once_send_each_reminder_once_and_record_it(
    bot: Bot, emulator: Emulator, clock: Clock
) -> None:
    for number in range(12):
        bot.command(f"new Customer {number}: down sev1")
    clock.advance(minutes=31)
    barrier = threading.Barrier(3)

    def run() -> None:
        # Each sweep hands its claims to its own sender threads and recorder, as the scheduler
        # job does.
        senders = Senders.start(bot.deps)
        barrier.wait()
        sweep_due(bot.deps, senders)
        senders.shutdown()  # the sends finished, then recorded

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    texts = overdue_dms(emulator)
    assert len(texts) == 12
    assert sorted(t.split("*")[1] for t in texts) == sorted(f"Customer {n}" for n in range(12))
    with bot.deps.session_factory() as session:
        for crisis in session.query(Crisis):
            assert crisis.nags_sent == 1 and crisis.claimed_by is None
            assert crisis.last_nag_at == clock.current
            assert crisis.next_check_at == clock.current + bot.deps.settings.nag_every
        assert session.query(Reminder).filter(Reminder.sent_at.is_(None)).count() == 0
        assert session.query(TimelineEvent).filter_by(kind="nag_sent").count() == 12


def test_an_update_killed_halfway_is_finished_by_the_sweep_once(
    bot: Bot, emulator: Emulator, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot.command("new Acme Corp: dashboards empty sev1")
    with bot.deps.session_factory() as session:
        channel = session.query(Crisis).one().channel_id or ""
    real_post = bot.deps.slack.post

    def post_then_die(**kwargs: object) -> str:
        real_post(**kwargs)  # type: ignore[arg-type]
        raise Killed  # Slack has the message; we die before recording its ts

    with monkeypatch.context() as patch:
        patch.setattr(bot.deps.slack, "post", post_then_die)
        bot.command("update Root cause found", channel=channel)
    updates = [m.text for m in emulator.messages(channel) if "Status update" in m.text]
    assert len(updates) == 1
    bot.command("close Fixed and verified", channel=channel)
    clock.advance(minutes=6)
    bot.sweep()
    assert [m.text for m in emulator.messages(channel) if "Status update" in m.text] == updates
    assert sum("*Resolved* by" in m.text for m in emulator.messages(channel)) == 1
    with bot.deps.session_factory() as session:
        crisis = session.query(Crisis).one()
        assert crisis.pending_since is None and crisis.closure_ts
        assert all(u.message_ts for u in crisis.updates)


def test_an_owner_never_told_of_their_declaration_gets_one_dm_from_the_sweep(
    bot: Bot, emulator: Emulator, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def die(*args: object, **kwargs: object) -> None:
        raise Killed  # the reply may have gone; that it did is not recorded

    bot.command("new Told Corp: dashboards empty sev1")  # the reply tells Ana: no DM
    with monkeypatch.context() as patch:
        patch.setattr("handlers.common.lifecycle.owner_told_by_reply", die)
        bot.command("new Untold Corp: checkout fails sev1")
    assert emulator.dm_messages("U0ANA") == []
    clock.advance(minutes=6)
    bot.sweep()
    bot.sweep()
    (dm,) = emulator.dm_messages("U0ANA")
    assert "You own the crisis for *Untold Corp*" in dm.text
    with bot.deps.session_factory() as session:
        rows = {c.customer: c for c in session.query(Crisis)}
        assert all(c.owner_told and c.pending_since is None for c in rows.values())
        # Back on the normal schedule: the heads-up 10 minutes before the promise.
        untold = rows["Untold Corp"]
        assert untold.next_update_due_at is not None
        assert untold.next_check_at == untold.next_update_due_at - bot.deps.settings.reminder_lead


def test_claims_come_back_in_the_order_they_fell_due(bot: Bot, clock: Clock) -> None:
    for number in range(6):
        bot.command(f"new Customer {number}: down sev1")
    now = clock.current
    with bot.deps.session_factory() as session:
        crises = session.query(Crisis).order_by(Crisis.id).all()
        # The newest crisis fell due first: due order is not id order (nor the table's).
        for age, crisis in enumerate(reversed(crises)):
            crisis.next_check_at = now - timedelta(seconds=10 - age)
        session.commit()
        expected = [c.id for c in reversed(crises)]
    with bot.deps.session_factory() as session:
        lease = bot.deps.settings.lease
        assert reminders.claim_due(session, now=now, claims=Claims("t1"), lease=lease) == expected
    with bot.deps.session_factory() as session:
        # All claimed, by another replica.
        assert reminders.claim_due(session, now=now, claims=Claims("t2"), lease=lease) == []


def test_a_send_the_recorder_could_not_record_is_not_sent_again(
    bot: Bot, emulator: Emulator, overdue: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def database_down(*args: object, **kwargs: object) -> list[object]:
        raise OperationalError("UPDATE reminders", {}, Exception("server closed the connection"))

    senders = Senders.start(bot.deps)
    with monkeypatch.context() as patch:
        patch.setattr(reminders, "record_sent", database_down)
        sweep_due(bot.deps, senders)
        senders.shutdown()
    assert len(overdue_dms(emulator)) == 1
    with bot.deps.session_factory() as session:
        assert session.query(Crisis).one().nags_sent == 0  # not recorded
    assert bot.sweep() == []  # the claim's lease still hides it
    overdue.advance(seconds=bot.deps.settings.lease.total_seconds() + 1)
    assert [s.kind for s in bot.sweep()] == ["overdue"]
    assert len(overdue_dms(emulator)) == 1  # found in Slack by its key, not sent again
    with bot.deps.session_factory() as session:
        assert session.query(Crisis).one().nags_sent == 1
        (row,) = session.query(Reminder).filter_by(kind="overdue").all()
        assert row.attempts == 2 and row.sent_at is not None


def test_the_recorder_records_what_queued_meanwhile_in_one_transaction(
    bot: Bot, emulator: Emulator, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(6):
        bot.command(f"new Customer {number}: down sev1")
    clock.advance(minutes=31)
    senders = Senders.start(bot.deps)
    handed: list[int] = []
    batches: list[int] = []
    all_handed = threading.Event()
    real_put, real_record = senders.recorder.put, reminders.record_sent

    def put(posted: reminders.Posted, *args: Any) -> None:
        real_put(posted, *args)
        handed.append(posted.crisis_id)
        if len(handed) == 6:
            all_handed.set()

    def record(session: Any, batch: list[reminders.Posted], **kwargs: Any) -> Any:
        # The first batch takes long enough for all the others to queue behind it.
        assert all_handed.wait(timeout=30)
        batches.append(len(batch))
        return real_record(session, batch, **kwargs)

    monkeypatch.setattr(senders.recorder, "put", put)
    monkeypatch.setattr(reminders, "record_sent", record)
    sweep_due(bot.deps, senders)
    senders.shutdown()
    # The first batch holds what was queued when the recorder woke (one or two nags); all the
    # rest, queued while it waited, goes in the second.
    assert sum(batches) == 6 and len(batches) <= 2
    assert len(overdue_dms(emulator)) == 6
    with bot.deps.session_factory() as session:
        assert [c.nags_sent for c in session.query(Crisis)] == [1] * 6
