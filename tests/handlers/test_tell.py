"""``/crisis tell``: a private preview of exactly what the customer will see, then one press
sends it to their channel (through the leak guard), or it is copied and recorded as told; each
renews the promise."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.db.models import Crisis, CustomerMessageRecord, CustomerPromise, StatusUpdate
from bot.services import accounts
from bot.services.accounts import AccountRecord
from sandbox import Emulator
from tests.conftest import Clock
from tests.harness import Bot
from tests.support import T0

BOTH_DATABASES = True

GLOBEX = AccountRecord(
    name="Globex Corp",
    aliases=("Globex",),
    tier="enterprise",
    csm_id="U0CHEN",
    team=("U0BEN",),
    timezone="Europe/Berlin",
    business_hours="Mon-Fri 09:00-17:00",
    customer_channel="C0SHARED",
)
INITECH = AccountRecord(name="Initech", aliases=("Initech Global",), timezone="America/New_York")
MIGDAL = AccountRecord(
    name="מגדל נתונים",
    aliases=("Migdal Data",),
    csm_id="U0DANA",
    team=("U0ANA",),
    timezone="Asia/Jerusalem",
    business_hours="Sun-Thu 08:30-17:30",
    language="he",
    cadences=(None, None, 8 * 3600, 2 * 86400),
)


@pytest.fixture
def known(bot: Bot) -> None:
    with bot.deps.session_factory() as session:
        accounts.upsert(session=session, records=[GLOBEX, INITECH, MIGDAL], now=T0)


def declare(bot: Bot, text: str, user: str) -> Crisis:
    bot.command(f"new {text}", user=user)
    with bot.deps.session_factory() as session:
        crisis = session.scalars(select(Crisis).order_by(Crisis.id.desc())).first()
        assert crisis is not None and crisis.channel_id
        return crisis


@pytest.fixture
def globex(bot: Bot, known: None) -> Crisis:
    return declare(bot, "Globex: exports fail sev2", "U0CHEN")


def previews(emulator: Emulator, user: str) -> list[Any]:
    return [p for p in emulator.response_posts if p.user == user and p.blocks]


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    out = []
    for block in blocks:
        if block["type"] == "section":
            out.append(block["text"]["text"])
        elif block["type"] == "context":
            out.extend(e["text"] for e in block["elements"])
    return out


def buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["action_id"]: e for b in blocks if b["type"] == "actions" for e in b["elements"]}


def replies(emulator: Emulator, user: str) -> list[str]:
    return [p.text for p in emulator.response_posts if p.user == user]


def records(bot: Bot) -> list[CustomerMessageRecord]:
    with bot.deps.session_factory() as session:
        return list(session.scalars(select(CustomerMessageRecord).order_by("id")))


def customer_posts(emulator: Emulator) -> list[Any]:
    return [m for m in emulator.messages("C0SHARED") if m.user == "U0BOT"]


def stored(bot: Bot, crisis_id: int) -> Crisis:
    with bot.deps.session_factory() as session:
        crisis = session.get(Crisis, crisis_id)
        assert crisis is not None
        session.expunge(crisis)
        return crisis


def test_tell_previews_exactly_what_the_customer_will_see(
    bot: Bot, emulator: Emulator, globex: Crisis
) -> None:
    bot.command(
        "tell Exports work again; we are watching them.",
        user="U0CHEN",
        channel=globex.channel_id or "",
    )
    (preview,) = previews(emulator, "U0CHEN")
    assert preview.response_type == "ephemeral"
    due = int(globex.next_update_due_at.timestamp())  # type: ignore[union-attr]
    assert texts(preview.blocks) == [
        ":speech_balloon: *Preview: what Globex Corp will see*",
        "Exports work again; we are watching them.\n\nYou will hear from us again by"
        f" <!date^{due}^{{date_short_pretty}} at {{time}}|Sunday, 22 November at 16:00 CET>,"
        " even if nothing has changed by then.",
        "It goes to <#C0SHARED> (only you see this preview).",
    ]
    assert {k: b["text"]["text"] for k, b in buttons(preview.blocks).items()} == {
        "send_to_customer": "Send to Globex Corp",
        "edit_customer_message": "Edit",
    }
    (draft,) = records(bot)
    assert (draft.status, draft.author_id, draft.channel, draft.language) == (
        "draft",
        "U0CHEN",
        "C0SHARED",
        "en",
    )
    assert customer_posts(emulator) == []


def test_send_posts_in_the_customer_channel_once_quotes_it_and_renews_the_promise(
    bot: Bot, emulator: Emulator, clock: Clock, globex: Crisis
) -> None:
    channel = globex.channel_id or ""
    clock.advance(minutes=20)
    bot.command("tell Exports work again.", user="U0CHEN", channel=channel)
    (preview,) = previews(emulator, "U0CHEN")
    value = buttons(preview.blocks)["send_to_customer"]["value"]
    shown = texts(preview.blocks)[1]
    clock.advance(minutes=1)
    emulator.clear_calls()
    bot.click("send_to_customer", value, user="U0CHEN", channel=channel)
    bot.click("send_to_customer", value, user="U0BEN", channel=channel)

    (sent,) = customer_posts(emulator)
    # As previewed, with the promise counted from the moment it was sent.
    assert sent.text == shown.replace("16:20", "16:21").replace("1795360800", "1795360860")
    (post,) = [c for c in emulator.calls_to("chat.postMessage") if c.args["channel"] == "C0SHARED"]
    assert (post.args["unfurl_links"], post.args["unfurl_media"]) in (
        (False, False),
        ("false", "false"),
    )
    assert "<@" not in sent.text and "<!" not in sent.text.replace("<!date^", "")
    quote = [m.text for m in emulator.messages(channel) if m.text.startswith(":outbox_tray:")]
    due = "<!date^1795360860^{date_short_pretty} at {time}"
    assert sent.text == (
        f"Exports work again.\n\nYou will hear from us again by {due}|Sunday, 22 November at"
        " 16:21 CET>, even if nothing has changed by then."
    )
    assert quote == [
        ":outbox_tray: Sent to Globex Corp in <#C0SHARED> by <@U0CHEN>\n"
        + "\n".join("> " + line for line in sent.text.splitlines())
        + f"\n_Next update by {due}|2026-11-22 15:21 UTC>._"
    ]
    assert "already sent by <@U0CHEN>" in replies(emulator, "U0BEN")[-1]
    (record,) = records(bot)
    assert (record.status, record.sent_by, record.sent_at, record.ts, record.sent_text) == (
        "sent",
        "U0CHEN",
        clock(),
        sent.ts,
        sent.text,
    )
    crisis = stored(bot, globex.id)
    assert crisis.committed_at == clock()
    assert crisis.next_update_due_at == clock() + timedelta(hours=1)
    with bot.deps.session_factory() as session:
        (update,) = session.scalars(select(StatusUpdate)).all()
        assert (update.author_id, update.text) == ("U0CHEN", "Exports work again.")
        # The ledger: the first promise kept on time, as told the customer; the next one open.
        kept, following = session.scalars(
            select(CustomerPromise).order_by(CustomerPromise.id)
        ).all()
        assert (kept.outcome, kept.told, kept.ended_at) == ("kept", "customer", clock())
        assert (following.outcome, following.due_at) == (None, clock() + timedelta(hours=1))


def test_the_hebrew_account_sees_it_framed_in_hebrew_in_its_own_time(
    bot: Bot, emulator: Emulator, known: None
) -> None:
    crisis = declare(bot, "Migdal Data: הייצוא נכשל sev3", "U0DANA")
    bot.command("tell הייצוא חזר לעבוד.", user="U0DANA", channel=crisis.channel_id or "")
    (preview,) = previews(emulator, "U0DANA")
    date = (
        "<!date^1795415400^{date_short_pretty} {time}|יום שני, 23 בנובמבר בשעה \u206608:30\u2069"
        " \u2068שעון ישראל (חורף)\u2069>"
    )
    # sev3 promised in 8 hours: past midnight there, so at their next business opening.
    assert texts(preview.blocks) == [
        ":speech_balloon: *Preview: what מגדל נתונים will see*",
        f"\u200fהייצוא חזר לעבוד.\n\nנעדכן אתכם שוב עד \u2068{date}\u2069, גם אם עד אז לא יהיה"
        " שינוי.",
        "מגדל נתונים's account has no customer channel: a copy for you to send (by email or on"
        " a call). Press *I sent it* once they have it.",
    ]
    assert list(buttons(preview.blocks)) == ["customer_told", "edit_customer_message"]
    (draft,) = records(bot)
    assert draft.language == "he"


def test_a_leak_is_refused_naming_the_words_and_nothing_is_sent(
    bot: Bot, emulator: Emulator, globex: Crisis
) -> None:
    channel = globex.channel_id or ""
    bot.command("tell The SEV2 is over, unlike Initech's.", user="U0CHEN", channel=channel)
    (preview,) = previews(emulator, "U0CHEN")
    refusal = (
        ":no_entry: Not sent: the message for the customer contains the internal severity:"
        " “SEV2”; another customer's name: “Initech”. Take it out (*Edit*) and try again."
    )
    assert refusal in texts(preview.blocks)
    assert list(buttons(preview.blocks)) == ["edit_customer_message"]
    # Pressed anyway (an old preview): the guard refuses it all the same.
    value = str(records(bot)[0].id)
    bot.click("send_to_customer", value, user="U0CHEN", channel=channel)
    assert replies(emulator, "U0CHEN")[-1] == refusal
    assert customer_posts(emulator) == []
    assert records(bot)[0].status == "draft"


def test_blame_is_a_warning_sending_is_allowed_and_recorded(
    bot: Bot, emulator: Emulator, globex: Crisis
) -> None:
    channel = globex.channel_id or ""
    bot.command(
        "tell You forgot to renew the key; exports work again.", user="U0CHEN", channel=channel
    )
    (preview,) = previews(emulator, "U0CHEN")
    warnings = [t for t in texts(preview.blocks) if t.startswith(":warning:")]
    assert warnings == [
        ":warning: *You forgot to* may read as blaming the customer: focus on the outcome: say"
        " what we are doing about it."
    ]
    bot.click(
        "send_to_customer",
        buttons(preview.blocks)["send_to_customer"]["value"],
        user="U0BEN",
        channel=channel,
    )
    (sent,) = customer_posts(emulator)
    assert sent.text.startswith("You forgot to renew the key; exports work again.\n\n")
    assert (records(bot)[0].status, records(bot)[0].sent_by) == ("sent", "U0BEN")


def test_not_in_channel_gives_the_copy_and_i_sent_it_records_it_once(
    bot: Bot, emulator: Emulator, clock: Clock, globex: Crisis
) -> None:
    emulator.workspace.channels["C0SHARED"].members.discard("U0BOT")
    channel = globex.channel_id or ""
    bot.command("tell Exports work again.", user="U0CHEN", channel=channel)
    (preview,) = previews(emulator, "U0CHEN")
    value = buttons(preview.blocks)["send_to_customer"]["value"]
    clock.advance(minutes=5)
    bot.click("send_to_customer", value, user="U0CHEN", channel=channel)
    copy = previews(emulator, "U0CHEN")[-1]
    assert copy.replace_original
    assert (
        ":warning: I'm not a member of <#C0SHARED>, so nothing was sent. Invite me with"
        " `/invite @crisisbot` in that channel and press *Send* again, or send this copy"
        " yourself and press *I sent it*."
    ) in texts(copy.blocks)
    assert texts(copy.blocks)[1].startswith("Exports work again.\n\nYou will hear from us")
    assert list(buttons(copy.blocks)) == [
        "send_to_customer",
        "customer_told",
        "edit_customer_message",
    ]
    assert customer_posts(emulator) == [] and records(bot)[0].status == "draft"

    bot.click("customer_told", value, user="U0CHEN", channel=channel)
    bot.click("customer_told", value, user="U0CHEN", channel=channel)
    record = records(bot)[0]
    assert (record.status, record.told_how, record.sent_by, record.sent_at) == (
        "told",
        "copied",
        "U0CHEN",
        clock(),
    )
    assert replies(emulator, "U0CHEN")[-2] == ":white_check_mark: Recorded: Globex Corp was told."
    assert "already recorded as told" in replies(emulator, "U0CHEN")[-1]
    told = [m.text for m in emulator.messages(channel) if m.text.startswith(":outbox_tray:")]
    assert len(told) == 1
    assert told[0].startswith(
        ":outbox_tray: <@U0CHEN> told Globex Corp directly (a copy they sent)\n> Exports"
    )
    crisis = stored(bot, globex.id)
    assert (crisis.committed_at, crisis.next_update_due_at) == (
        clock(),
        clock() + timedelta(hours=1),
    )
    with bot.deps.session_factory() as session:
        kept = session.scalars(select(CustomerPromise).order_by(CustomerPromise.id)).first()
        assert kept is not None and (kept.outcome, kept.told) == ("kept", "customer")


def test_a_crisis_without_an_account_gets_the_copy_and_how_to_add_one(
    bot: Bot, emulator: Emulator
) -> None:
    crisis = declare(bot, "Hooli: exports fail sev2", "U0ANA")
    bot.command("tell Exports work again.", user="U0ANA", channel=crisis.channel_id or "")
    (preview,) = previews(emulator, "U0ANA")
    assert (
        "*Hooli* has no account, so there is no customer channel to send to. An admin adds one"
        " with `/crisis account add` (with its customer channel); meanwhile, here is the message"
        " ready to copy. Press *I sent it* once they have it."
    ) in texts(preview.blocks)
    assert list(buttons(preview.blocks)) == ["customer_told", "edit_customer_message"]


def test_only_the_owner_responders_and_admins_may_tell(
    bot: Bot, emulator: Emulator, globex: Crisis
) -> None:
    bot.command("tell Exports work again.", user="U0DANA", channel=globex.channel_id or "")
    assert "tell the customer of" in replies(emulator, "U0DANA")[-1]
    assert records(bot) == []


def test_edit_opens_the_text_and_shows_the_preview_again(
    bot: Bot, emulator: Emulator, globex: Crisis
) -> None:
    channel = globex.channel_id or ""
    bot.command("tell Exports work agian.", user="U0CHEN", channel=channel)
    value = buttons(previews(emulator, "U0CHEN")[0].blocks)["edit_customer_message"]["value"]
    bot.click("edit_customer_message", value, user="U0CHEN", channel=channel)
    (opened,) = emulator.calls_to("views.open")
    view = opened.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["blocks"][1]["element"]["initial_value"] == "Exports work agian."
    bot.submit(
        view,
        {
            "text": {"type": "plain_text_input", "value": "Exports work again."},
            "note": {"type": "plain_text_input", "value": "root cause: the March deploy"},
        },
        user="U0CHEN",
    )
    shown = emulator.ephemerals("U0CHEN")[-1]
    assert texts(shown.blocks)[1].startswith("Exports work again.\n\n")
    bot.click("send_to_customer", value, user="U0CHEN", channel=channel)
    (sent,) = customer_posts(emulator)
    assert "March" not in sent.text
    quote = [m.text for m in emulator.messages(channel) if m.text.startswith(":outbox_tray:")]
    assert "\n_Note for the team:_ root cause: the March deploy\n" in quote[0]


def test_an_update_reminds_to_tell_the_customer_where_there_is_a_channel(
    bot: Bot, emulator: Emulator, globex: Crisis
) -> None:
    bot.command("update exporter restarted", user="U0CHEN", channel=globex.channel_id or "")
    assert replies(emulator, "U0CHEN")[-1].endswith(
        "\nThat update is for the team. To tell *Globex Corp* in <#C0SHARED>:"
        " `/crisis tell <what they should know>` (you see it before it goes)."
    )
    assert customer_posts(emulator) == []


def test_the_draft_outlives_a_restart(
    bot: Bot, emulator: Emulator, clock: Clock, globex: Crisis
) -> None:
    channel = globex.channel_id or ""
    bot.command("tell Exports work again.", user="U0CHEN", channel=channel)
    value = buttons(previews(emulator, "U0CHEN")[0].blocks)["send_to_customer"]["value"]
    bot.close()
    again = Bot(
        settings=bot.deps.settings,
        session_factory=bot.deps.session_factory,
        clock=clock,
        emulator=emulator,
    )
    try:
        again.click("send_to_customer", value, user="U0CHEN", channel=channel)
    finally:
        again.close()
    (sent,) = customer_posts(emulator)
    assert sent.text.startswith("Exports work again.\n\n")
