"""Buttons that let the team step in: on the escalation, on the follow-up, on the Home tab."""

from datetime import timedelta

import pytest

from bot.config import Settings
from bot.db.models import Crisis, TimelineEvent
from sandbox import Emulator
from sandbox.workspace import Message
from tests.conftest import Clock, make_settings
from tests.harness import Bot

ESCALATIONS = "C0ESCAL"


@pytest.fixture
def settings() -> Settings:
    return make_settings(escalation_channel=ESCALATIONS)


@pytest.fixture
def channel(bot: Bot, emulator: Emulator) -> str:
    """A sev1 crisis owned by ana, declared at 14:00: next update promised by 14:30."""
    bot.command("new Acme Corp: dashboards empty sev1")
    found = emulator.channel_by_name("crisis-20261122-acme-corp")
    assert found is not None
    return found.id


def stored(bot: Bot) -> Crisis:
    with bot.deps.session_factory() as session:
        crisis = session.query(Crisis).one()
        session.expunge(crisis)
        return crisis


def kinds(bot: Bot) -> list[tuple[str, str | None]]:
    with bot.deps.session_factory() as session:
        return [
            (e.kind, e.actor_id) for e in session.query(TimelineEvent).order_by(TimelineEvent.id)
        ]


def buttons(message: Message) -> list[tuple[str, str]]:
    return [
        (e["text"]["text"], e["action_id"])
        for b in message.blocks or []
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def replies(emulator: Emulator, user: str) -> list[str]:
    return [p.text for p in emulator.response_posts if p.user == user]


def escalate(bot: Bot, clock: Clock) -> None:
    for minutes in (30, 40, 50, 60):
        clock.current = clock.current.replace(hour=14, minute=0) + timedelta(minutes=minutes)
        bot.sweep()


def test_ill_help_joins_as_a_responder_once(
    bot: Bot, emulator: Emulator, clock: Clock, channel: str
) -> None:
    escalate(bot, clock)
    escalation = emulator.messages(ESCALATIONS)[-1]
    assert buttons(escalation) == [
        ("I'll help", "escalation_help"),
        ("Take over", "escalation_take_over"),
    ]
    note = next(m for m in emulator.messages(channel) if "I have escalated" in m.text)
    assert [label for label, _ in buttons(note)] == ["I'll help", "Take over"]
    crisis_id = str(stored(bot).id)
    bot.click(
        "escalation_help", crisis_id, user="U0BEN", channel=ESCALATIONS, message_ts=escalation.ts
    )
    assert "U0BEN" in emulator.workspace.channels[channel].members
    assert stored(bot).responders == ["U0BEN"]
    assert "you are now a responder" in replies(emulator, "U0BEN")[-1]
    assert "<@U0BEN> joined as a responder to help" in emulator.messages(channel)[-1].text
    bot.click(
        "escalation_help", crisis_id, user="U0BEN", channel=ESCALATIONS, message_ts=escalation.ts
    )
    assert "already helping" in replies(emulator, "U0BEN")[-1]
    bot.click(
        "escalation_help", crisis_id, user="U0ANA", channel=ESCALATIONS, message_ts=escalation.ts
    )
    assert "You own this crisis already" in replies(emulator, "U0ANA")[-1]
    assert stored(bot).responders == ["U0BEN"]
    assert kinds(bot).count(("responder_added", "U0BEN")) == 1
    assert all(p.response_type == "ephemeral" for p in emulator.response_posts)


def test_take_over_makes_the_clicker_the_owner_once(
    bot: Bot, emulator: Emulator, clock: Clock, channel: str
) -> None:
    escalate(bot, clock)
    escalation = emulator.messages(ESCALATIONS)[-1]
    crisis_id = str(stored(bot).id)
    bot.click(
        "escalation_take_over",
        crisis_id,
        user="U0BEN",
        channel=ESCALATIONS,
        message_ts=escalation.ts,
    )
    assert stored(bot).owner_id == "U0BEN"
    assert "U0BEN" in emulator.workspace.channels[channel].members
    assert "<@U0BEN> took over this crisis from <@U0ANA>" in emulator.messages(channel)[-1].text
    assert "You now own the crisis for *Acme Corp*" in replies(emulator, "U0BEN")[-1]
    assert "now owns the crisis" in emulator.dm_messages("U0ANA")[-1].text
    bot.click(
        "escalation_take_over",
        crisis_id,
        user="U0BEN",
        channel=ESCALATIONS,
        message_ts=escalation.ts,
    )
    assert "You own this crisis already" in replies(emulator, "U0BEN")[-1]
    assert kinds(bot).count(("owner_changed", "U0BEN")) == 1
    # The reminders follow the new owner.
    clock.advance(minutes=10)
    assert [s.kind for s in bot.sweep()] == ["overdue"]
    assert "has not been posted" in emulator.dm_messages("U0BEN")[-1].text


def test_follow_up_check_in_is_recorded_and_the_dm_says_so(
    bot: Bot, emulator: Emulator, clock: Clock, channel: str
) -> None:
    bot.command("close Ingest fixed", channel=channel)
    clock.advance(days=3, minutes=1)
    assert [s.kind for s in bot.sweep()] == ["follow_up"]
    follow_up = emulator.dm_messages("U0ANA")[-1]
    assert buttons(follow_up) == [
        ("Checked in with the customer", "follow_up_checked_in"),
        ("Reopen", "follow_up_open_reopen"),
    ]
    dm = emulator.dm_channel("U0ANA")
    crisis_id = str(stored(bot).id)
    bot.click("follow_up_checked_in", crisis_id, channel=dm, message_ts=follow_up.ts)
    edited = next(m for m in emulator.dm_messages("U0ANA") if m.ts == follow_up.ts)
    assert "<@U0ANA> checked in with *Acme Corp*" in edited.text
    assert buttons(edited) == []
    assert ("checked_in", "U0ANA") in kinds(bot)
    bot.click("follow_up_checked_in", crisis_id, channel=dm, message_ts=follow_up.ts)
    assert "already recorded" in replies(emulator, "U0ANA")[-1]
    assert kinds(bot).count(("checked_in", "U0ANA")) == 1


def test_follow_up_reopen_asks_why(
    bot: Bot, emulator: Emulator, clock: Clock, channel: str
) -> None:
    bot.command("close Ingest fixed", channel=channel)
    clock.advance(days=3, minutes=1)
    bot.sweep()
    follow_up = emulator.dm_messages("U0ANA")[-1]
    dm = emulator.dm_channel("U0ANA")
    bot.click("follow_up_open_reopen", str(stored(bot).id), channel=dm, message_ts=follow_up.ts)
    view = emulator.open_views("U0ANA")[-1].view
    assert view["callback_id"] == "reopen_crisis"
    answer = bot.submit(view, {"reason": {"type": "plain_text_input", "value": ""}})
    assert answer.json()["errors"] == {"reason": "Say why it is being reopened."}
    bot.submit(view, {"reason": {"type": "plain_text_input", "value": "Data gaps again"}})
    assert stored(bot).status == "open"
    assert "*Why:* Data gaps again" in emulator.messages(channel)[-1].text
    assert emulator.dm_messages("U0ANA")[-1].text.startswith(":arrows_counterclockwise: Reopened.")
    bot.click("follow_up_open_reopen", str(stored(bot).id), channel=dm, message_ts=follow_up.ts)
    assert "already open" in replies(emulator, "U0ANA")[-1]


def test_home_tab_declares(bot: Bot, emulator: Emulator) -> None:
    bot.event({"type": "app_home_opened", "user": "U0BEN", "channel": "D0HOME", "tab": "home"})
    home = emulator.home_view("U0BEN")
    assert home is not None
    labels = [
        e["text"]["text"]
        for b in home.view["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    assert labels == ["Declare a crisis"]
    bot.click("home_declare", "declare", user="U0BEN")
    assert emulator.open_views("U0BEN")[-1].view["callback_id"] == "declare_crisis"
    bot.click("home_declare", "declare", user="U0CORA")
    # Someone from another organisation is stopped by the one check every listener passes
    # (tests/handlers/test_strangers.py): no form, and no DM either.
    assert emulator.open_views("U0CORA") == []
    assert emulator.dm_messages("U0CORA") == []
