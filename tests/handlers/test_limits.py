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


def test_long_text_is_cut_to_block_kit_limits_and_every_call_succeeds(
    bot: Bot, emulator: Emulator
) -> None:
    customer = "Initech " + "Global Holdings " * 11
    bot.command(f"new {customer}: " + "the export has failed again " * 120 + "sev1")
    channel = emulator.channel_by_name(
        next(c.name for c in emulator.workspace.channels.values() if c.name.startswith("crisis"))
    )
    assert channel is not None and len(channel.name) <= 80
    bot.command("update " + "x" * 40_000, channel=channel.id)
    failed = [(c.method, c.error) for c in emulator.calls if not c.ok]
    assert failed == []
    update = emulator.messages(channel.id)[-1].text
    assert len(update) < 4000 and "…" in update
    header = emulator.messages(channel.id)[0].blocks[0]["text"]["text"]
    assert len(header) <= 150 and "Hold… · Not triaged yet" in header


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
    bot.react("eyes", user="U0CHEN", channel="C0CRISES", ts=announcement.ts)
    with bot.deps.session_factory() as session:
        crisis = session.query(Crisis).one()
        assert [a.user_id for a in crisis.acknowledgements] == ["U0CHEN"]
    card = emulator.messages(crisis.channel_id or "")[0]
    assert "Acknowledged by <@U0CHEN>" in str(card.blocks)
