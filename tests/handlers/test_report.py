"""``/crisis report`` and the close form's "What will we change…?", as people use them."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from bot.db.models import Crisis
from sandbox import Emulator
from tests.conftest import Clock
from tests.harness import Bot

BOTH_DATABASES = True


def declare(bot: Bot, text: str, user: str = "U0ANA") -> Crisis:
    bot.command(f"new {text}", user=user)
    with bot.deps.session_factory() as session:
        crisis = session.scalars(select(Crisis).order_by(Crisis.id.desc())).first()
        assert crisis is not None and crisis.channel_id
        return crisis


def close_form(bot: Bot, emulator: Emulator, crisis: Crisis, user: str) -> dict[str, Any]:
    bot.click("crisis_open_close", str(crisis.id), user=user, channel=crisis.channel_id or "")
    return emulator.open_views(user)[-1].view


def close_values(prevention: str) -> dict[str, Any]:
    return {
        "resolution": {"type": "plain_text_input", "value": "Rolled back the release"},
        "follow_ups": {"type": "plain_text_input", "value": ""},
        "prevention": {"type": "plain_text_input", "value": prevention},
        "confirmed": {"type": "radio_buttons", "selected_option": {"value": "yes"}},
    }


def texts(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def test_the_report_of_a_crisis_run_in_slack(bot: Bot, emulator: Emulator, clock: Clock) -> None:
    crisis = declare(bot, "Acme Corp: dashboards empty sev1")  # promises an update in 30m
    channel = crisis.channel_id or ""
    clock.advance(minutes=3)
    bot.command("ack", user="U0BEN", channel=channel)
    clock.advance(minutes=20)
    bot.command("update Rolling back the release", channel=channel)  # on time
    clock.advance(minutes=17)  # before the update's promise (by 53m) is due
    view = close_form(bot, emulator, crisis, "U0ANA")
    assert "What will we change so this doesn't happen again?" in texts(view["blocks"])
    bot.submit(view, close_values("Canary every release for an hour"))
    with bot.deps.session_factory() as session:
        stored = session.get(Crisis, crisis.id)
        assert stored is not None and stored.prevention == "Canary every release for an hour"

    clock.advance(hours=1)
    assert bot.command("report 7d", user="U0DANA").status == 200
    answer = emulator.response_posts[-1]
    assert (answer.user, answer.response_type) == ("U0DANA", "ephemeral")
    assert answer.text == "The last 7 days: 1 declared, 1 closed, 100% of promises on time."
    blocks = answer.blocks or []
    assert blocks[0]["text"]["text"] == "Report: the last 7 days"
    shown = texts(blocks)
    assert "1 declared · 1 closed" in shown
    # Two promises: the declaration's, kept by the update; the update's, kept by the closure.
    assert "*100%* kept on time (2 of 2) · 0 kept late · 0 broken" in shown
    assert "median 3m · 90th percentile 3m" in shown  # acknowledged after 3 minutes
    assert "median 40m · 90th percentile 40m" in shown  # resolved after 40 minutes
    assert "<@U0ANA>: 1 declared, 1 closed · 100% on time, 0 late, 0 broken · ack 3m" in shown
    assert "*Acme Corp*: 1 declared" in shown
    assert "SEV1: 1 declared" in shown
    assert "*What we will change* (1)" in shown
    assert "Canary every release for an hour" in shown
    assert shown.count("kept on time") == 3  # the total and the two latest promises


def test_the_period_is_seven_thirty_or_ninety_days(
    bot: Bot, emulator: Emulator, clock: Clock
) -> None:
    declare(bot, "Globex: invoices doubled sev3")
    clock.advance(days=8)
    bot.command("report 7d")
    assert emulator.response_posts[-1].text == "The last 7 days: 0 declared, 0 closed."
    assert "No crisis was declared or closed" in texts(emulator.response_posts[-1].blocks or [])
    bot.command("report")  # 30 days when not said
    answer = emulator.response_posts[-1]
    assert answer.text == "The last 30 days: 1 declared, 0 closed."
    assert (answer.blocks or [])[0]["text"]["text"] == "Report: the last 30 days"
    bot.command("report 90D")
    assert emulator.response_posts[-1].text == "The last 90 days: 1 declared, 0 closed."


def test_a_period_it_does_not_know_is_answered_with_the_ones_it_does(
    bot: Bot, emulator: Emulator
) -> None:
    before = len(emulator.response_posts)
    for period in ("1y", "14d", "last month"):
        text = bot.command(f"report {period}").text
        assert f"I don't know the period `{period}`" in text
        assert "Say one of `7d`, `30d`, `90d`" in text
        assert "Usage: `/crisis report [7d|30d|90d]`" in text
    assert len(emulator.response_posts) == before


def test_help_lists_the_report(bot: Bot) -> None:
    assert (
        "`/crisis report [7d|30d|90d]` (30d when not said): how we kept" in bot.command("help").text
    )


def test_closing_without_an_answer_keeps_an_earlier_one(
    bot: Bot, emulator: Emulator, clock: Clock
) -> None:
    crisis = declare(bot, "Initech: logins fail sev2")
    channel = crisis.channel_id or ""
    bot.submit(close_form(bot, emulator, crisis, "U0ANA"), close_values("Rotate keys monthly"))
    bot.command("reopen The errors came back", channel=channel)
    bot.command("close Keys rotated again", channel=channel)
    clock.advance(minutes=1)
    with bot.deps.session_factory() as session:
        stored = session.get(Crisis, crisis.id)
        assert stored is not None
        assert (stored.status, stored.prevention) == ("closed", "Rotate keys monthly")
    bot.command("report 7d")
    assert "Rotate keys monthly" in texts(emulator.response_posts[-1].blocks or [])
