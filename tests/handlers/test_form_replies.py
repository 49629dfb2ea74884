"""The forms confirm what they did, as the commands do."""

from datetime import timedelta

import pytest

from bot.db.models import Crisis
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


def test_the_update_form_says_when_the_next_update_is_promised(
    bot: Bot, emulator: Emulator, clock: Clock, declared: tuple[str, Crisis]
) -> None:
    channel, crisis = declared
    bot.click("crisis_open_update", str(crisis.id), channel=channel, message_ts=crisis.card_ts)
    view = emulator.open_views("U0ANA")[-1].view
    bot.submit(
        view,
        {
            "what_happened": {"type": "plain_text_input", "value": "Ingest stalled"},
            "doing": {"type": "plain_text_input", "value": "Restarting it"},
            "next_in": {"type": "static_select", "selected_option": {"value": "2h"}},
        },
    )
    due = int((clock() + timedelta(hours=2)).timestamp())
    told = emulator.dm_messages("U0ANA")[-1].text
    assert told.startswith(":white_check_mark: Update posted.")
    assert f"The next one is promised by <!date^{due}^" in told


def test_the_close_form_says_when_the_follow_up_comes(
    bot: Bot, emulator: Emulator, clock: Clock, declared: tuple[str, Crisis]
) -> None:
    channel, crisis = declared
    bot.click("crisis_open_close", str(crisis.id), channel=channel, message_ts=crisis.card_ts)
    view = emulator.open_views("U0ANA")[-1].view
    bot.submit(
        view,
        {
            "resolution": {"type": "plain_text_input", "value": "Credit note issued"},
            "confirmed": {"type": "radio_buttons", "selected_option": {"value": "yes"}},
        },
    )
    follow_up = int((clock() + timedelta(days=3)).timestamp())
    told = emulator.dm_messages("U0ANA")[-1].text
    assert told.startswith(":white_check_mark: Closed. Reminders are stopped.")
    assert f"check in with the customer <!date^{follow_up}^" in told
