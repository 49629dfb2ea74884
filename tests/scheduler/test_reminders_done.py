"""Once the update is posted, every reminder that asked for it says so and loses its buttons."""

from datetime import timedelta

import pytest

from bot.config import Settings
from bot.db.models import Crisis, ReminderMessage
from sandbox import Emulator
from sandbox.workspace import Message
from tests.conftest import Clock, make_settings
from tests.harness import Bot

BOTH_DATABASES = True
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


def sweep_at(bot: Bot, clock: Clock, minutes: int) -> list[str]:
    clock.current = clock.current.replace(hour=14, minute=0, second=0) + timedelta(minutes=minutes)
    return [s.kind for s in bot.sweep()]


def reminders(emulator: Emulator) -> list[Message]:
    return [m for m in emulator.dm_messages("U0ANA") if "You own the crisis" not in m.text]


def has_buttons(message: Message) -> bool:
    return any(b["type"] == "actions" for b in message.blocks or [])


def crisis_id(bot: Bot) -> int:
    with bot.deps.session_factory() as session:
        return session.query(Crisis).one().id


def post_update(how: str, bot: Bot, emulator: Emulator, channel: str) -> None:
    if how == "command":
        bot.command("update Ingest restarted; next update at 15:30", channel=channel)
    elif how == "form":
        # The Post update button on the latest overdue DM, then the form.
        dm = emulator.dm_channel("U0ANA")
        bot.click("crisis_open_update", str(crisis_id(bot)), channel=dm)
        view = emulator.open_views("U0ANA")[-1].view
        bot.submit(
            view,
            {
                "what_happened": {"type": "plain_text_input", "value": "Ingest stalled"},
                "doing": {"type": "plain_text_input", "value": "Restarted it"},
                "next_in": {"type": "static_select", "selected_option": {"value": "30m"}},
            },
        )
    else:
        ts = emulator.post_as_user("U0ANA", channel, "Ingest restarted, data is flowing").ts
        bot.react("mega", user="U0ANA", channel=channel, ts=ts)


@pytest.mark.parametrize("how", ["command", "form", "reaction"])
def test_posting_the_update_marks_every_reminder_done(
    bot: Bot, emulator: Emulator, clock: Clock, channel: str, how: str
) -> None:
    assert sweep_at(bot, clock, 20) == ["heads_up"]
    assert sweep_at(bot, clock, 30) == ["overdue"]
    assert sweep_at(bot, clock, 40) == ["overdue"]
    assert sweep_at(bot, clock, 60) == ["overdue", "escalation"]
    asked = reminders(emulator)
    # A heads-up and three overdue DMs with their buttons, then the owner told where the
    # escalation went.
    assert len(asked) == 5 and all(has_buttons(m) for m in asked[:4])
    assert asked[4].text.startswith(":sos: Escalated in")
    escalation = emulator.messages(ESCALATIONS)[-1]
    assert escalation.text.startswith(":sos: *Escalation:*")
    note = next(m for m in emulator.messages(channel) if "I have escalated" in m.text)

    clock.current = clock.current.replace(minute=2, hour=15)
    emulator.clear_calls()
    post_update(how, bot, emulator, channel)

    done = f"Done: update to *Acme Corp* posted <!date^{int(clock().timestamp())}^{{time}}|"
    for message in reminders(emulator)[: len(asked)]:
        assert message.text.startswith(f":white_check_mark: {done}"), message.text
        assert "by <@U0ANA> in <#" in message.text
        assert not has_buttons(message)
    edited = emulator.messages(ESCALATIONS)[-1]
    assert edited.ts == escalation.ts and done in edited.text and not has_buttons(edited)
    assert done in next(m.text for m in emulator.messages(channel) if m.ts == note.ts)
    with bot.deps.session_factory() as session:
        rows = session.query(ReminderMessage).all()
        assert len(rows) == len(asked) + 2 and all(r.done_at == clock() for r in rows)

    # The next commitment's reminders ask again, with their buttons; a second update edits
    # only those, never the old ones a second time.
    sweep_at(bot, clock, 60 + 2 + 20)
    fresh = reminders(emulator)[-1]
    assert "Heads-up" in fresh.text and has_buttons(fresh)
    emulator.clear_calls()
    bot.command("update Backfill done", channel=channel)
    assert len(emulator.calls_to("chat.update")) == 1 + 2  # the heads-up, the card and the pin
    assert not has_buttons(reminders(emulator)[-1])
