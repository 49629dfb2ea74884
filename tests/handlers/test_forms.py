"""The update and close forms speak to the customer too, and the follow-up DM suggests the
check-in: each message is a ``/crisis tell`` draft, previewed, sent through the one guard."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.db.models import Crisis, CustomerPromise, TimelineEvent
from bot.services import accounts
from sandbox import Emulator
from tests.conftest import Clock
from tests.handlers.test_tell import (
    GLOBEX,
    INITECH,
    MIGDAL,
    buttons,
    customer_posts,
    declare,
    records,
    stored,
    texts,
)
from tests.harness import Bot
from tests.support import T0

BOTH_DATABASES = True


@pytest.fixture
def known(bot: Bot) -> None:
    with bot.deps.session_factory() as session:
        accounts.upsert(session=session, records=[GLOBEX, INITECH, MIGDAL], now=T0)


@pytest.fixture
def globex(bot: Bot, known: None) -> Crisis:
    return declare(bot, "Globex: exports fail sev2", "U0CHEN")


def form(bot: Bot, emulator: Emulator, crisis: Crisis, action: str, user: str) -> dict[str, Any]:
    bot.click(action, str(crisis.id), user=user, channel=crisis.channel_id or "")
    return emulator.open_views(user)[-1].view


def field(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


def promises(bot: Bot, crisis_id: int) -> list[tuple[str | None, str | None]]:
    with bot.deps.session_factory() as session:
        rows = session.scalars(
            select(CustomerPromise)
            .where(CustomerPromise.crisis_id == crisis_id)
            .order_by(CustomerPromise.id)
        )
        return [(p.outcome, p.told) for p in rows]


UPDATE_VALUES: dict[str, Any] = {
    "what_happened": {"type": "plain_text_input", "value": "Exports time out in the queue"},
    "doing": {"type": "plain_text_input", "value": "Moving exports to a new worker pool"},
    "next_steps": {"type": "plain_text_input", "value": "Re-run the failed exports"},
    "next_in": {"type": "static_select", "selected_option": {"value": "1h"}},
}


def with_message(view: dict[str, Any], **changes: str) -> dict[str, Any]:
    values = dict(UPDATE_VALUES)
    for block_id, text in changes.items():
        values[block_id] = {"type": "plain_text_input", "value": text}
    return values


def offered(view: dict[str, Any]) -> str:
    return str(field(view, "customer_message")["element"]["initial_value"])


def test_the_update_form_offers_the_kind_template_and_previews_the_message(
    bot: Bot, emulator: Emulator, clock: Clock, globex: Crisis
) -> None:
    view = form(bot, emulator, globex, "crisis_open_update", "U0CHEN")
    assert offered(view) == (
        "Hello Globex Corp team,\n\nWe are on it, and it has our full attention.\n\n"
        "*What you experienced:* exports fail\n*What we are doing:* "
    )
    assert field(view, "internal_note")["label"]["text"] == "Internal note (team only)"
    clock.advance(minutes=10)
    bot.submit(
        view,
        with_message(view, customer_message=offered(view), internal_note="Worker pool is ours"),
        user="U0CHEN",
    )
    # The team's update is posted, and keeps the promise once.
    assert (
        "Moving exports to a new worker pool" in emulator.messages(globex.channel_id or "")[-1].text
    )
    assert promises(bot, globex.id) == [("kept", "team"), (None, None)]
    # The message to the customer is a draft, shown privately with its buttons.
    confirm, preview = emulator.dm_messages("U0CHEN")[-2:]
    assert confirm.text.startswith(":white_check_mark: Update posted.")
    due = int((clock() + timedelta(hours=1)).timestamp())
    framed = (
        "Hello Globex Corp team,\n\nWe are on it, and it has our full attention.\n\n"
        "*What you experienced:* exports fail\n"
        "*What we are doing:* Moving exports to a new worker pool\n\n"
        "*Next steps:*\n• Re-run the failed exports\n\n"
        f"You will hear from us again by <!date^{due}^{{date_short_pretty}} at {{time}}"
        "|Sunday, 22 November at 16:10 CET>, even if nothing has changed by then."
    )
    assert texts(preview.blocks or []) == [
        ":speech_balloon: *Preview: what Globex Corp will see*",
        framed,
        "It goes to <#C0SHARED> (only you see this preview).",
    ]
    (draft,) = records(bot)
    assert (draft.status, draft.purpose, draft.note) == ("draft", "update", "Worker pool is ours")
    assert customer_posts(emulator) == []
    # Sending it goes through the one guard to the customer channel, and keeps the next promise.
    send = buttons(preview.blocks or [])["send_to_customer"]
    dm = emulator.dm_channel("U0CHEN")
    bot.click("send_to_customer", send["value"], user="U0CHEN", channel=dm)
    assert [m.text for m in customer_posts(emulator)] == [framed]
    assert promises(bot, globex.id) == [("kept", "team"), ("kept", "customer"), (None, None)]
    quoted = emulator.messages(globex.channel_id or "")[-1].text
    assert "Worker pool is ours" in quoted
    assert "Worker pool is ours" not in framed


def test_an_update_form_with_no_customer_message_tells_only_the_team(
    bot: Bot, emulator: Emulator, globex: Crisis
) -> None:
    view = form(bot, emulator, globex, "crisis_open_update", "U0CHEN")
    bot.submit(
        view,
        with_message(view, customer_message="", internal_note="Ask infra about quotas"),
        user="U0CHEN",
    )
    assert promises(bot, globex.id) == [("kept", "team"), (None, None)]
    assert records(bot) == []
    assert not any(m.blocks for m in emulator.dm_messages("U0CHEN"))
    # The note is not lost: the team reads it in the update.
    assert "Ask infra about quotas" in emulator.messages(globex.channel_id or "")[-1].text


def test_the_same_update_form_delivered_twice_makes_one_draft(
    bot: Bot, emulator: Emulator, globex: Crisis
) -> None:
    view = form(bot, emulator, globex, "crisis_open_update", "U0CHEN")
    view["id"] = "V0SAME"
    values = with_message(view, customer_message="Exports are being moved.")
    bot.submit(view, values, user="U0CHEN")
    bot.submit(view, values, user="U0CHEN")
    assert promises(bot, globex.id) == [("kept", "team"), (None, None)]
    assert [r.text for r in records(bot)] == ["Exports are being moved."]


def test_a_crisis_without_an_account_has_no_customer_message_in_its_forms(
    bot: Bot, emulator: Emulator, known: None
) -> None:
    crisis = declare(bot, "Acme Corp: dashboards empty sev2", "U0ANA")
    update = form(bot, emulator, crisis, "crisis_open_update", "U0ANA")
    close = form(bot, emulator, crisis, "crisis_open_close", "U0ANA")
    for view in (update, close):
        assert "customer_message" not in [b.get("block_id") for b in view["blocks"]]


CLOSE_VALUES: dict[str, Any] = {
    "resolution": {"type": "plain_text_input", "value": "Exports run on the new worker pool"},
    "follow_ups": {
        "type": "plain_text_input",
        "value": "Re-run the failed exports\n- Add an alert on the export queue",
    },
    "confirmed": {"type": "radio_buttons", "selected_option": {"value": "yes"}},
}


def close_with(view: dict[str, Any], text: str) -> dict[str, Any]:
    return {**CLOSE_VALUES, "customer_message": {"type": "plain_text_input", "value": text}}


def test_the_close_form_sends_the_closing_message_after_closing(
    bot: Bot, emulator: Emulator, globex: Crisis
) -> None:
    view = form(bot, emulator, globex, "crisis_open_close", "U0CHEN")
    bot.submit(view, close_with(view, offered(view)), user="U0CHEN")
    assert stored(bot, globex.id).status == "closed"
    kept = promises(bot, globex.id)
    confirm, preview = emulator.dm_messages("U0CHEN")[-2:]
    assert confirm.text.startswith(":white_check_mark: Closed.")
    closing = (
        "Hello Globex Corp team,\n\n"
        "We have resolved the issue, and we want to close every loose end with you.\n\n"
        "*What was resolved:* Exports run on the new worker pool\n\n"
        "*What we are still doing:*\n"
        "• Re-run the failed exports\n"
        "• Add an alert on the export queue\n\n"
        "Thank you for working through this with us. This channel stays open for your questions."
    )
    assert texts(preview.blocks or [])[1:] == [
        closing,
        "It goes to <#C0SHARED> (only you see this preview).",
    ]
    (draft,) = records(bot)
    assert (draft.status, draft.purpose) == ("draft", "closure")
    # Sent after closure, through the guard; a closed crisis makes no new promise.
    send = buttons(preview.blocks or [])["send_to_customer"]
    dm = emulator.dm_channel("U0CHEN")
    bot.click("send_to_customer", send["value"], user="U0CHEN", channel=dm)
    bot.click("send_to_customer", send["value"], user="U0CHEN", channel=dm)
    assert [m.text for m in customer_posts(emulator)] == [closing]
    assert [r.status for r in records(bot)] == ["sent"]
    assert promises(bot, globex.id) == kept
    assert stored(bot, globex.id).status == "closed"


def test_an_edited_closing_message_keeps_the_words_and_takes_the_resolution(
    bot: Bot, emulator: Emulator, globex: Crisis
) -> None:
    view = form(bot, emulator, globex, "crisis_open_close", "U0CHEN")
    text = "All fixed: [the resolution you write above]. Thanks for your patience."
    bot.submit(view, close_with(view, text), user="U0CHEN")
    (draft,) = records(bot)
    assert draft.text == "All fixed: Exports run on the new worker pool. Thanks for your patience."


def test_an_emptied_closing_message_sends_nothing(
    bot: Bot, emulator: Emulator, globex: Crisis
) -> None:
    view = form(bot, emulator, globex, "crisis_open_close", "U0CHEN")
    bot.submit(view, close_with(view, ""), user="U0CHEN")
    assert stored(bot, globex.id).status == "closed"
    assert records(bot) == []
    assert emulator.dm_messages("U0CHEN")[-1].text.startswith(":white_check_mark: Closed.")


def test_the_closing_message_is_in_hebrew_for_migdal_data(
    bot: Bot, emulator: Emulator, known: None
) -> None:
    crisis = declare(bot, "Migdal Data: exports fail sev3", "U0DANA")
    view = form(bot, emulator, crisis, "crisis_open_close", "U0DANA")
    bot.submit(view, close_with(view, offered(view)), user="U0DANA")
    preview = emulator.dm_messages("U0DANA")[-1]
    closing = (
        "שלום לצוות \u2068מגדל נתונים\u2069,\n\n"
        "פתרנו את התקלה, ואנחנו רוצים לסגור איתכם את כל הקצוות.\n\n"
        "*מה נפתר:* \u2068Exports run on the new worker pool\u2069\n\n"
        "*מה אנחנו עוד עושים:*\n"
        "\u200f• \u2068Re-run the failed exports\u2069\n"
        "\u200f• \u2068Add an alert on the export queue\u2069\n\n"
        "תודה שעבדתם על זה יחד איתנו. הערוץ הזה נשאר פתוח לכל שאלה שתהיה לכם."
    )
    assert texts(preview.blocks or [])[1] == closing
    # No customer channel: copied by hand, and recorded once told, without a new promise.
    kept = promises(bot, crisis.id)
    told = buttons(preview.blocks or [])["customer_told"]
    bot.click("customer_told", told["value"], user="U0DANA", channel=emulator.dm_channel("U0DANA"))
    (draft,) = records(bot)
    assert (draft.status, draft.purpose, draft.sent_text) == ("told", "closure", closing)
    assert promises(bot, crisis.id) == kept


def follow_up_buttons(blocks: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [
        (e["text"]["text"], e["action_id"])
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def timeline(bot: Bot, crisis_id: int) -> list[tuple[str, str | None]]:
    with bot.deps.session_factory() as session:
        events = session.scalars(
            select(TimelineEvent)
            .where(TimelineEvent.crisis_id == crisis_id)
            .order_by(TimelineEvent.id)
        )
        return [(e.kind, e.actor_id) for e in events]


def test_the_follow_up_dm_suggests_a_check_in_and_sends_it(
    bot: Bot, emulator: Emulator, clock: Clock, globex: Crisis
) -> None:
    bot.command(
        "close Exports run on the new worker pool", user="U0CHEN", channel=globex.channel_id or ""
    )
    clock.advance(days=3, minutes=1)
    assert [s.kind for s in bot.sweep()] == ["follow_up"]
    follow_up = emulator.dm_messages("U0CHEN")[-1]
    check_in = (
        "Hello Globex Corp team,\n\n"
        "We wanted to check in with you since we resolved the issue.\n\n"
        "*What was resolved:* Exports run on the new worker pool\n\n"
        "How is everything on your side? If anything still isn't right, or you have a question,"
        " reply here: this channel stays open for you."
    )
    assert texts(follow_up.blocks or [])[1:] == [
        "A check-in you could send *Globex Corp* (you see it before it goes):",
        check_in,
    ]
    assert follow_up_buttons(follow_up.blocks or []) == [
        ("Send check-in", "follow_up_send_check_in"),
        ("I checked in", "follow_up_checked_in"),
        ("Reopen", "follow_up_open_reopen"),
    ]
    dm = emulator.dm_channel("U0CHEN")
    bot.click("follow_up_send_check_in", str(globex.id), user="U0CHEN", channel=dm)
    (preview,) = [p for p in emulator.response_posts if p.user == "U0CHEN" and p.blocks]
    assert texts(preview.blocks or [])[1:] == [
        check_in,
        "It goes to <#C0SHARED> (only you see this preview).",
    ]
    assert customer_posts(emulator) == []
    kept = promises(bot, globex.id)
    send = buttons(preview.blocks or [])["send_to_customer"]
    bot.click("send_to_customer", send["value"], user="U0CHEN", channel=dm)
    assert [m.text for m in customer_posts(emulator)] == [check_in]
    assert [(r.status, r.purpose) for r in records(bot)] == [("sent", "check_in")]
    assert timeline(bot, globex.id)[-1] == ("checked_in", "U0CHEN")
    assert promises(bot, globex.id) == kept


def test_i_checked_in_on_the_follow_up_dm_is_recorded_once(
    bot: Bot, emulator: Emulator, clock: Clock, globex: Crisis
) -> None:
    bot.command("close Exports fixed", user="U0CHEN", channel=globex.channel_id or "")
    clock.advance(days=3, minutes=1)
    bot.sweep()
    follow_up = emulator.dm_messages("U0CHEN")[-1]
    dm = emulator.dm_channel("U0CHEN")
    for _ in range(2):
        bot.click(
            "follow_up_checked_in",
            str(globex.id),
            user="U0CHEN",
            channel=dm,
            message_ts=follow_up.ts,
        )
    assert timeline(bot, globex.id).count(("checked_in", "U0CHEN")) == 1
    assert records(bot) == []
    assert customer_posts(emulator) == []
