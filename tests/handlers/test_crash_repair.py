"""A crash between storing and posting: the sweep finishes every message once, notices
(reopened, handed over, cadence) included; an event is marked handled with its effect."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from bot.db.models import Acknowledgement, Crisis, ProcessedEvent, StatusUpdate, TimelineEvent
from bot.services import lifecycle
from sandbox import Emulator
from tests.conftest import Clock
from tests.harness import Bot


@pytest.fixture
def declared(bot: Bot) -> tuple[str, Crisis]:
    bot.command("new Acme Corp: dashboards empty sev1")
    with bot.deps.session_factory() as session:
        crisis = session.query(Crisis).one()
    assert crisis.channel_id
    return crisis.channel_id, crisis


def close_it(bot: Bot, channel: str) -> None:
    bot.command("close Ingest fixed", channel=channel)


# (what the user does, set-up first, the notice's words, where its DMs go)
NOTICES: dict[str, tuple[Callable[[Bot, str], None], str, str, list[str]]] = {
    "reopened": (
        lambda bot, channel: (
            (close_it(bot, channel), None)[1]
            or bot.command("reopen The fix did not hold", channel=channel)
        ),
        "reopened",
        "Reopened by <@U0ANA>",
        [],
    ),
    "handed over": (
        lambda bot, channel: bot.command("owner <@U0BEN|ben>", channel=channel),
        "owner_changed",
        "now owns this crisis",
        ["U0BEN", "U0ANA"],
    ),
    "cadence": (
        lambda bot, channel: bot.command("every 2h", channel=channel),
        "cadence_changed",
        "set updates every 2h",
        [],
    ),
}


def said(emulator: Emulator, channel: str, words: str) -> int:
    return sum(words in m.text for m in emulator.messages(channel))


def dms(emulator: Emulator, users: list[str]) -> list[int]:
    return [len(emulator.dm_messages(user)) for user in users]


@pytest.mark.parametrize("notice", NOTICES)
def test_a_notice_stored_but_never_posted_is_posted_once_by_the_sweep(
    bot: Bot,
    emulator: Emulator,
    clock: Clock,
    declared: tuple[str, Crisis],
    monkeypatch: pytest.MonkeyPatch,
    notice: str,
) -> None:
    act, kind, words, dm_to = NOTICES[notice]
    channel, _ = declared
    before = dms(emulator, dm_to)

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the process died here")

    with monkeypatch.context() as patch:
        patch.setattr(lifecycle, "post_notice", crash)
        act(bot, channel)
    assert said(emulator, channel, words) == 0
    with bot.deps.session_factory() as session:
        (line,) = session.query(TimelineEvent).filter_by(kind=kind).all()
        assert line.notice_ts is None
    # Not before the lease of the work that died runs out...
    bot.sweep()
    assert said(emulator, channel, words) == 0
    # ... then once, with the hand-over's DMs.
    clock.advance(seconds=bot.deps.settings.lease.total_seconds() + 1)
    bot.sweep()
    bot.sweep()
    assert said(emulator, channel, words) == 1
    assert dms(emulator, dm_to) == [n + 1 for n in before]
    with bot.deps.session_factory() as session:
        (line,) = session.query(TimelineEvent).filter_by(kind=kind).all()
        assert line.notice_ts
        assert session.query(Crisis).one().pending_since is None


@pytest.mark.parametrize("notice", NOTICES)
def test_a_notice_posted_but_not_recorded_is_not_posted_again(
    bot: Bot, emulator: Emulator, clock: Clock, declared: tuple[str, Crisis], notice: str
) -> None:
    act, kind, words, dm_to = NOTICES[notice]
    channel, _ = declared
    act(bot, channel)
    assert said(emulator, channel, words) == 1
    after = dms(emulator, dm_to)
    with bot.deps.session_factory() as session:
        # As if the process died after Slack took the notice, before it was recorded.
        session.execute(
            update(TimelineEvent).where(TimelineEvent.kind == kind).values(notice_ts=None)
        )
        lease = bot.deps.settings.lease
        session.execute(
            update(Crisis).values(pending_since=clock.current, next_check_at=clock.current + lease)
        )
        session.commit()
    clock.advance(seconds=bot.deps.settings.lease.total_seconds() + 1)
    bot.sweep()
    assert said(emulator, channel, words) == 1  # found by its key
    assert dms(emulator, dm_to) == after
    with bot.deps.session_factory() as session:
        (line,) = session.query(TimelineEvent).filter_by(kind=kind).all()
        assert line.notice_ts
        assert session.query(Crisis).one().pending_since is None


def test_an_event_whose_effect_failed_is_handled_when_slack_retries_it(
    bot: Bot, emulator: Emulator, declared: tuple[str, Crisis], monkeypatch: pytest.MonkeyPatch
) -> None:
    channel, crisis = declared
    event = {
        "type": "reaction_added",
        "user": "U0BEN",
        "reaction": "eyes",
        "item": {"type": "message", "channel": channel, "ts": crisis.card_ts},
    }

    def database_gone(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the database went away")

    with monkeypatch.context() as patch:
        patch.setattr(lifecycle, "record", database_gone)
        assert bot.event(event, event_id="Ev1").status == 200
    with bot.deps.session_factory() as session:
        assert session.query(Acknowledgement).count() == 0
        assert session.get(ProcessedEvent, "Ev1") is None  # not handled: not marked
    # Slack retries it: handled now, once, and marked with its effect.
    assert bot.event(event, event_id="Ev1", retry=1).status == 200
    assert bot.event(event, event_id="Ev1", retry=2).status == 200
    with bot.deps.session_factory() as session:
        assert [a.user_id for a in session.query(Acknowledgement)] == ["U0BEN"]
        assert session.get(ProcessedEvent, "Ev1") is not None


def test_an_update_by_reaction_delivered_twice_is_one_update(
    bot: Bot, emulator: Emulator, declared: tuple[str, Crisis]
) -> None:
    channel, _ = declared
    ts = emulator.post_as_user("U0ANA", channel, "Root cause found, fix deploying").ts
    emulator.add_reaction("U0ANA", channel, ts, "mega")
    event = {
        "type": "reaction_added",
        "user": "U0ANA",
        "reaction": "mega",
        "item": {"type": "message", "channel": channel, "ts": ts},
    }
    assert bot.event(event, event_id="Ev2").status == 200
    assert bot.event(event, event_id="Ev2", retry=1).status == 200
    with bot.deps.session_factory() as session:
        assert session.query(StatusUpdate).count() == 1
        assert session.get(ProcessedEvent, "Ev2") is not None
    assert said(emulator, channel, "Root cause found") == 2  # the original and the update


def test_a_lease_is_renewed_while_the_work_is_alive_and_runs_out_when_it_is_not(
    bot: Bot, clock: Clock, declared: tuple[str, Crisis]
) -> None:
    from bot.services import leases
    from scheduler.senders import renew_leases

    _, crisis = declared
    lease = bot.deps.settings.lease
    with bot.deps.session_factory() as session:
        session.execute(
            update(Crisis).values(
                pending_since=clock.current,
                claimed_by=bot.deps.claims.token,
                next_check_at=clock.current + lease,
            )
        )
        session.commit()
    with bot.deps.claims.holding(crisis.id):
        for _ in range(10):  # a minute of Slack's rate limits: the heartbeat keeps it
            clock.advance(seconds=6)
            assert renew_leases(bot.deps) == 1
            assert bot.sweep() == []
            with bot.deps.session_factory() as session:
                assert session.query(Crisis).one().next_check_at == clock.current + lease
    # The work is gone (its process died): the next sweep after one lease finishes it.
    clock.advance(seconds=lease.total_seconds() + 1)
    assert renew_leases(bot.deps) == 0
    assert [s.kind for s in bot.sweep()] == []  # finished (no reminder sent)
    with bot.deps.session_factory() as session:
        stored = session.query(Crisis).one()
        assert stored.pending_since is None
    assert leases.Claims().held() == []
    assert timedelta(seconds=20) == lease
