"""Oversized and hostile input gets a clear answer, never a Slack error; announcements work."""

import pytest

from bot.config import Settings
from bot.db.models import Crisis
from sandbox import Emulator
from tests.conftest import make_settings
from tests.harness import Bot


@pytest.fixture
def settings() -> Settings:
    return make_settings(announce_channel="C0CRISES")


def test_text_over_the_limits_is_refused_with_the_limit_and_nothing_is_opened(
    bot: Bot, emulator: Emulator
) -> None:
    customer = "Initech " + "Global Holdings " * 11
    answer = bot.command(f"new {customer}: the export failed sev1")
    assert "The customer's name is 183 characters; at most 80 fit" in answer.text
    summary = "the export has failed again " * 120
    answer = bot.command(f"new Initech: {summary}sev1")
    assert (
        "The summary is 3,359 characters; Slack shows at most 2,900 in one block. Shorten it,"
        " or post the detail as a message in the crisis channel." in answer.text
    )
    assert emulator.calls_to("conversations.create") == []

    bot.command("new Initech: the export failed")
    with bot.deps.session_factory() as session:
        channel = session.query(Crisis).one().channel_id or ""
    answer = bot.command("update " + "x" * 40_000, channel=channel)
    assert "The update is 40,000 characters; Slack shows at most 2,800 in one update" in (
        answer.text
    )
    answer = bot.command("close " + "y" * 1501, channel=channel)
    assert "The resolution is 1,501 characters; Slack shows at most 1,500" in answer.text
    with bot.deps.session_factory() as session:
        crisis = session.query(Crisis).one()
        assert (crisis.status, crisis.updates) == ("open", [])


def test_text_at_the_limits_is_shown_whole_or_marked_as_shortened(
    bot: Bot, emulator: Emulator
) -> None:
    customer = "Initech & Global Holdings " + "x" * 54
    assert len(customer) == 80
    # At the limit, and full of characters that escaping makes longer than Slack allows.
    summary = "&" * 2900
    bot.command(f"new {customer.replace('&', '&amp;')}: {summary.replace('&', '&amp;')} sev1")
    failed = [(c.method, c.error) for c in emulator.calls if not c.ok]
    assert failed == []
    crisis_channel = next(
        c for c in emulator.workspace.channels.values() if c.name.startswith("crisis")
    )
    card = emulator.messages(crisis_channel.id)[0]
    assert card.blocks[0]["text"]["text"] == f"{customer} · Kind not set yet"
    experienced = card.blocks[2]["text"]["text"]
    assert len(experienced) <= 3000
    assert experienced.endswith("… _(shortened)_")
    bot.command("update " + "<" * 2800, channel=crisis_channel.id)
    update = emulator.messages(crisis_channel.id)[-1].text
    assert "… _(shortened)_" in update and len(update) < 4000


def test_a_bot_cannot_be_made_owner(bot: Bot, emulator: Emulator) -> None:
    bot.command("new Acme: down")
    with bot.deps.session_factory() as session:
        channel = session.query(Crisis).one().channel_id
    bot.command("owner <@U0BOT|crisisbot>", channel=channel)
    assert "A bot can't own a crisis" in emulator.response_posts[-1].text


def test_the_announcement_is_posted_and_a_reaction_on_it_acknowledges(
    bot: Bot, emulator: Emulator
) -> None:
    bot.command("new Acme Corp: dashboards empty sev1")
    announcement = emulator.messages("C0CRISES")[-1]
    assert ":rotating_light: *SEV1 · critical*" in announcement.text
    assert "*Acme Corp*" in announcement.text and "owner <@U0ANA>" in announcement.text
    # Declared by command, its kind is not set yet, and the announcement says so plainly.
    assert announcement.text.startswith(
        ":rotating_light: *SEV1 · critical* crisis for *Acme Corp* (kind not set yet): <#"
    )
    assert announcement.text.endswith("React with :eyes: to acknowledge and join the channel.")
    bot.react("eyes", user="U0CHEN", channel="C0CRISES", ts=announcement.ts)
    with bot.deps.session_factory() as session:
        crisis = session.query(Crisis).one()
        assert [a.user_id for a in crisis.acknowledgements] == ["U0CHEN"]
    card = emulator.messages(crisis.channel_id or "")[0]
    assert "Acknowledged by <@U0CHEN>" in str(card.blocks)


def test_acknowledging_from_the_announcement_brings_you_into_the_crisis_channel(
    bot: Bot, emulator: Emulator
) -> None:
    bot.command("new Acme Corp: dashboards empty sev1")
    announcement = emulator.messages("C0CRISES")[-1]
    with bot.deps.session_factory() as session:
        channel = session.query(Crisis).one().channel_id or ""
    assert "U0CHEN" not in emulator.workspace.channels[channel].members
    bot.react("eyes", user="U0CHEN", channel="C0CRISES", ts=announcement.ts)
    assert "U0CHEN" in emulator.workspace.channels[channel].members
    (told,) = [e.text for e in emulator.ephemerals("U0CHEN", "C0CRISES")]
    assert told.startswith(f":eyes: You're in: <#{channel}>.")
    with bot.deps.session_factory() as session:
        (ack,) = session.query(Crisis).one().acknowledgements
        assert (ack.user_id, ack.via) == ("U0CHEN", "announcement")


def test_acknowledging_a_closed_crisis_says_so_and_records_nothing(
    bot: Bot, emulator: Emulator
) -> None:
    bot.command("new Acme Corp: dashboards empty sev1")
    announcement = emulator.messages("C0CRISES")[-1]
    with bot.deps.session_factory() as session:
        crisis = session.query(Crisis).one()
    channel = crisis.channel_id or ""
    bot.command("close Fixed", channel=channel)
    edits = len(emulator.calls_to("chat.update"))
    bot.react("eyes", user="U0CHEN", channel="C0CRISES", ts=announcement.ts)
    emulator.workspace.channels[channel].members.add("U0DANA")
    bot.react("eyes", user="U0DANA", channel=channel, ts=crisis.card_ts or "")
    bot.click("crisis_ack", str(crisis.id), user="U0BEN", channel=channel)
    bot.command("ack", user="U0ANA", channel=channel)
    told = [
        *[e.text for e in emulator.ephemerals("U0CHEN", "C0CRISES")],
        *[e.text for e in emulator.ephemerals("U0DANA", channel)],
        *[p.text for p in emulator.response_posts if p.user == "U0BEN"],
        [p.text for p in emulator.response_posts if p.user == "U0ANA"][-1],
    ]
    assert len(told) == 4
    for text in told:
        assert "This crisis is closed, so there is nothing to acknowledge" in text
    assert "U0CHEN" not in emulator.workspace.channels[channel].members
    with bot.deps.session_factory() as session:
        assert session.query(Crisis).one().acknowledgements == []
    assert len(emulator.calls_to("chat.update")) == edits
