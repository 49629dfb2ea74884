"""``/crisis tell``: a private preview of exactly what the customer will see, then one press
sends it to their channel (through the leak guard), or it is copied and recorded as told; each
renews the promise."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.db.models import Crisis, CustomerMessageRecord, StatusUpdate
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
