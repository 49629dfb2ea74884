"""One outage, many customers: ``/crisis outage``, ``affected``, ``broadcast``, ``status``,
``split``, ``unaffected`` and closing the outage, through a real Bolt app and the emulator.

Three affected accounts: Globex (English, a customer channel), מגדל נתונים (Hebrew, its own
customer channel) and Initech (no customer channel: its CSM gets a copy to send).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.blocks import outage as outage_blocks
from bot.blocks.card import ACK
from bot.blocks.telling import TOLD
from bot.db.models import (
    Broadcast,
    BroadcastDelivery,
    Crisis,
    CustomerMessageRecord,
    CustomerPromise,
    Outage,
    OutageAccount,
)
from bot.deps import Deps
from bot.services import accounts, outages
from bot.services.accounts import AccountRecord
from bot.services.leases import Claims
from sandbox import Emulator
from sandbox.models import Channel
from scheduler import jobs
from scheduler.senders import release_claims, renew_leases
from tests.conftest import Clock
from tests.harness import Bot
from tests.support import T0

BOT_USER = "U0BOT"

GLOBEX = AccountRecord(
    name="Globex Corp",
    aliases=("Globex",),
    csm_id="U0CHEN",
    timezone="Europe/Berlin",
    customer_channel="C0SHARED",
)
MIGDAL = AccountRecord(
    name="מגדל נתונים",
    aliases=("Migdal Data",),
    csm_id="U0DANA",
    timezone="Asia/Jerusalem",
    business_hours="Sun-Thu 08:30-17:30",
    language="he",
    customer_channel="C0MIGDAL",
    cadences=(2 * 3600, None, None, None),
)
INITECH = AccountRecord(name="Initech", csm_id="U0BEN", timezone="America/New_York")
NAMES = ("Globex", "Migdal", "מגדל", "Initech")


@pytest.fixture
def known(bot: Bot, emulator: Emulator) -> None:
    with bot.deps.session_factory() as session:
        accounts.upsert(session=session, records=[GLOBEX, MIGDAL, INITECH], now=T0)
    ws = emulator.workspace
    with ws.lock:
        ws.add_channel(
            Channel(
                id="C0MIGDAL",
                name="migdal-acme",
                created=0,
                creator="U0DANA",
                is_ext_shared=True,
                members={"U0DANA", BOT_USER},
            )
        )


def declare(bot: Bot, text: str = "Exports down sev1") -> Outage:
    answer = bot.command(f"outage {text}", user="U0ANA", channel="C0GENERAL")
    assert answer.status == 200
    with bot.deps.session_factory() as session:
        outage = session.scalars(select(Outage).order_by(Outage.id.desc())).first()
        assert outage is not None and outage.channel_id
        session.expunge(outage)
        return outage


@pytest.fixture
def outage(bot: Bot, known: None) -> Outage:
    return declare(bot)


@pytest.fixture
def affected(bot: Bot, outage: Outage) -> Outage:
    bot.command(
        "affected Globex, Migdal Data, Initech", user="U0ANA", channel=outage.channel_id or ""
    )
    return outage


def replies(emulator: Emulator, user: str) -> list[str]:
    return [p.text for p in emulator.response_posts if p.user == user]


def previews(emulator: Emulator, user: str) -> list[Any]:
    return [p for p in emulator.response_posts if p.user == user and p.blocks]


def buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["action_id"]: e for b in blocks if b["type"] == "actions" for e in b["elements"]}


def account_crises(bot: Bot) -> dict[str, Crisis]:
    with bot.deps.session_factory() as session:
        found = {c.customer: c for c in session.scalars(select(Crisis))}
        for crisis in found.values():
            session.expunge(crisis)
        return found


def bot_posts(emulator: Emulator, channel: str) -> list[Any]:
    return [m for m in emulator.messages(channel) if m.user == BOT_USER]


def broadcast(bot: Bot, emulator: Emulator, outage: Outage, text: str) -> str:
    """``/crisis broadcast`` and the preview's *Send* value."""
    bot.command(f"broadcast {text}", user="U0ANA", channel=outage.channel_id or "")
    preview = previews(emulator, "U0ANA")[-1]
    return str(buttons(preview.blocks)[outage_blocks.SEND_BROADCAST]["value"])


def test_an_outage_gets_its_channel_card_and_pinned_status(
    bot: Bot, emulator: Emulator, known: None
) -> None:
    outage = declare(bot, "Exports API down sev1")
    assert outage.channel_name == "outage-20261122-exports-api-down"
    assert outage.severity == "sev1"
    channel = emulator.channel_by_name("outage-20261122-exports-api-down")
    assert channel is not None and "U0ANA" in channel.members
    card, status = bot_posts(emulator, outage.channel_id or "")
    assert "Exports API down" in card.text
    assert buttons(card.blocks)[outage_blocks.OPEN_BROADCAST]["text"]["text"] == (
        "Broadcast to customers"
    )
    assert [m.ts for m in emulator.pins(outage.channel_id or "")] == [status.ts]
    assert "0 affected accounts" in status.text
    assert f"<#{outage.channel_id}>" in replies(emulator, "U0ANA")[-1]


def test_each_affected_account_gets_its_crisis_owned_by_its_csm_without_a_channel(
    bot: Bot, emulator: Emulator, clock: Clock, affected: Outage
) -> None:
    found = account_crises(bot)
    assert set(found) == {"Globex Corp", "מגדל נתונים", "Initech"}
    for crisis in found.values():
        assert crisis.status == "open" and crisis.channel_id is None
        assert crisis.kind == "service_outage" and crisis.severity == "sev1"
    assert {c.customer: c.owner_id for c in found.values()} == {
        "Globex Corp": "U0CHEN",
        "מגדל נתונים": "U0DANA",
        "Initech": "U0BEN",
    }
    # Its own promise clock: Migdal's contracted sev1 cadence is two hours.
    migdal = found["מגדל נתונים"]
    assert migdal.cadence_seconds == 2 * 3600
    assert migdal.next_update_due_at == clock() + timedelta(hours=2)
    assert found["Globex Corp"].cadence_seconds == bot.deps.settings.cadence("sev1").total_seconds()
    # 200 accounts never mean 200 channels: only the outage's was made.
    assert len(emulator.calls_to("conversations.create")) == 1
    for csm in ("U0CHEN", "U0DANA", "U0BEN"):
        (dm,) = emulator.dm_messages(csm)
        assert f"<#{affected.channel_id}>" in dm.text and "You are its CSM" in dm.text
        assert ACK in buttons(dm.blocks)
    assert "Affected: Globex Corp, מגדל נתונים, Initech" in replies(emulator, "U0ANA")[-1]
    # Adding one again duplicates nothing.
    bot.command("affected globex", user="U0ANA", channel=affected.channel_id or "")
    assert "Already affected: Globex Corp" in replies(emulator, "U0ANA")[-1]
    assert len(account_crises(bot)) == 3


def test_an_account_with_an_open_crisis_is_linked_not_duplicated(
    bot: Bot, emulator: Emulator, outage: Outage
) -> None:
    bot.command("new Globex: exports fail sev2", user="U0CHEN")
    (own,) = account_crises(bot).values()
    bot.command("affected Globex", user="U0ANA", channel=outage.channel_id or "")
    (still,) = account_crises(bot).values()
    assert still.id == own.id
    with bot.deps.session_factory() as session:
        (link,) = session.scalars(select(OutageAccount)).all()
        assert (link.crisis_id, link.linked) == (own.id, True)
    assert "Linked their open crisis: Globex Corp" in replies(emulator, "U0ANA")[-1]


def test_reminders_of_a_channel_less_crisis_go_to_its_csm_naming_the_outage_channel(
    bot: Bot, emulator: Emulator, clock: Clock, affected: Outage
) -> None:
    clock.advance(hours=3)
    bot.sweep()
    texts = [m.text for m in emulator.dm_messages("U0DANA")][1:]  # after the outage's DM
    assert texts and all(f"<#{affected.channel_id}>" in t for t in texts), texts
    assert not any("<#>" in t for t in texts)


def test_broadcast_previews_every_account_then_sends_each_in_its_language_once(
    bot: Bot, emulator: Emulator, clock: Clock, affected: Outage
) -> None:
    clock.advance(minutes=10)
    bot.command(
        "broadcast We are restoring exports.", user="U0ANA", channel=affected.channel_id or ""
    )
    preview = previews(emulator, "U0ANA")[-1]
    assert preview.response_type == "ephemeral"
    shown = "\n".join(b["text"]["text"] for b in preview.blocks if b["type"] == "section")
    assert "• *Globex Corp* → <#C0SHARED>" in shown
    assert "• *מגדל נתונים* → <#C0MIGDAL>" in shown
    assert "• *Initech* → a copy for <@U0BEN> to send" in shown
    assert bot_posts(emulator, "C0SHARED") == []
    value = str(buttons(preview.blocks)[outage_blocks.SEND_BROADCAST]["value"])

    clock.advance(minutes=1)
    bot.click(outage_blocks.SEND_BROADCAST, value, user="U0ANA", channel=affected.channel_id)
    bot.click(outage_blocks.SEND_BROADCAST, value, user="U0BEN", channel=affected.channel_id)

    (globex,) = bot_posts(emulator, "C0SHARED")
    (migdal,) = bot_posts(emulator, "C0MIGDAL")
    assert globex.text.startswith("Hello Globex Corp team,")
    assert "We are restoring exports." in globex.text
    assert "שלום לצוות" in migdal.text and "We are restoring exports." in migdal.text
    # Each in its own time zone: Berlin and Jerusalem.
    assert "15:41 CET" in globex.text, globex.text
    assert "18:11" in migdal.text, migdal.text
    # No message names another account.
    for message, own in ((globex, ("Globex",)), (migdal, ("מגדל", "Migdal"))):
        for name in NAMES:
            if name not in own:
                assert name not in message.text
    # Through the one guarded path: no unfurls, and keyed for a crash.
    posts = [c for c in emulator.calls_to("chat.postMessage") if c.args["channel"] == "C0SHARED"]
    (post,) = posts
    assert str(post.args["unfurl_links"]).lower() == "false"
    assert "broadcast:" in str(post.args["metadata"])
    # Initech has no customer channel: its CSM has the copy, with *I sent it*.
    copy = emulator.dm_messages("U0BEN")[-1]
    assert "Hello Initech team," in copy.text and "Globex" not in copy.text
    told = buttons(copy.blocks)[TOLD]["value"]
    assert "already sent" in replies(emulator, "U0BEN")[-1]
    # Recorded on each account's crisis, promises renewed where the customer was told.
    found = account_crises(bot)
    with bot.deps.session_factory() as session:
        records = {r.crisis_id: r for r in session.scalars(select(CustomerMessageRecord)).all()}
        assert records[found["Globex Corp"].id].status == "sent"
        assert records[found["Globex Corp"].id].ts == globex.ts
        assert records[found["Initech"].id].status == "draft"
        kept = session.scalars(
            select(CustomerPromise).where(
                CustomerPromise.crisis_id == found["Globex Corp"].id,
                CustomerPromise.outcome.is_not(None),
            )
        ).all()
        assert [(p.outcome, p.told) for p in kept] == [("kept", "customer")]
    assert found["מגדל נתונים"].next_update_due_at == clock() + timedelta(hours=2)
    # The outage channel has the summary.
    assert any(
        ":loudspeaker:" in m.text and "3 affected accounts" in m.text
        for m in bot_posts(emulator, affected.channel_id or "")
    )
    # *I sent it* on the copy: recorded as told, and Initech's promise renewed.
    clock.advance(minutes=5)
    bot.click(TOLD, told, user="U0BEN", channel=emulator.dm_channel("U0BEN"))
    assert account_crises(bot)["Initech"].next_update_due_at == clock() + bot.deps.settings.cadence(
        "sev1"
    )


def test_a_broadcast_that_names_another_account_is_refused_whole(
    bot: Bot, emulator: Emulator, affected: Outage
) -> None:
    bot.command(
        "broadcast Initech's exporter broke it; fixing now.",
        user="U0ANA",
        channel=affected.channel_id or "",
    )
    preview = previews(emulator, "U0ANA")[-1]
    shown = "\n".join(b["text"]["text"] for b in preview.blocks if b["type"] == "section")
    assert "• *Globex Corp* → <#C0SHARED> · :no_entry: contains" in shown
    assert outage_blocks.SEND_BROADCAST not in buttons(preview.blocks)
    # Even pressed (an older preview, a forged click), nothing goes to anyone.
    with bot.deps.session_factory() as session:
        (held,) = session.scalars(select(Broadcast)).all()
        value = str(held.id)
    bot.click(outage_blocks.SEND_BROADCAST, value, user="U0ANA", channel=affected.channel_id)
    assert bot_posts(emulator, "C0SHARED") == [] and bot_posts(emulator, "C0MIGDAL") == []
    assert "Nothing was sent" in replies(emulator, "U0ANA")[-1]


def test_status_shows_a_row_per_account(
    bot: Bot, emulator: Emulator, clock: Clock, affected: Outage
) -> None:
    value = broadcast(bot, emulator, affected, "We are restoring exports.")
    bot.click(outage_blocks.SEND_BROADCAST, value, user="U0ANA", channel=affected.channel_id)
    found = account_crises(bot)
    bot.click(
        ACK, str(found["Globex Corp"].id), user="U0CHEN", channel=emulator.dm_channel("U0CHEN")
    )
    clock.advance(hours=1)
    bot.command("status", user="U0ANA", channel=affected.channel_id or "")
    status = previews(emulator, "U0ANA")[-1]
    text = "\n".join(b["text"]["text"] for b in status.blocks if b["type"] == "section")
    assert "3 affected accounts" in text
    rows = {line.split("*")[1]: line for line in text.splitlines() if line.startswith("•")}
    assert (
        "CSM <@U0CHEN>" in rows["Globex Corp"] and ":white_check_mark: acked" in rows["Globex Corp"]
    )
    assert "last told <!date^" in rows["Globex Corp"]
    assert "not acked" in rows["Initech"] and "not told yet" in rows["Initech"]
    # Globex's 30-minute promise, renewed by the broadcast, is now overdue; Migdal's
    # contracted two hours are not up yet.
    assert "*overdue*" in rows["Globex Corp"] and "overdue" not in rows["מגדל נתונים"]


def test_split_gives_one_account_its_own_channel(
    bot: Bot, emulator: Emulator, affected: Outage
) -> None:
    bot.command("split Globex", user="U0ANA", channel=affected.channel_id or "")
    found = account_crises(bot)
    assert found["Globex Corp"].channel_id is not None
    assert found["Initech"].channel_id is None
    assert f"<#{found['Globex Corp'].channel_id}>" in replies(emulator, "U0ANA")[-1]
    bot.command("split Globex", user="U0ANA", channel=affected.channel_id or "")
    assert "already has its channel" in replies(emulator, "U0ANA")[-1]


def test_unaffected_leaves_an_account_out_of_broadcasts(
    bot: Bot, emulator: Emulator, affected: Outage
) -> None:
    bot.command("unaffected Initech", user="U0ANA", channel=affected.channel_id or "")
    assert "no longer affected" in replies(emulator, "U0ANA")[-1]
    value = broadcast(bot, emulator, affected, "We are restoring exports.")
    bot.click(outage_blocks.SEND_BROADCAST, value, user="U0ANA", channel=affected.channel_id)
    assert [m for m in emulator.dm_messages("U0BEN") if "Hello Initech" in m.text] == []


def test_closing_the_outage_closes_linked_crises_with_a_closing_message_or_leaves_them_open(
    bot: Bot, emulator: Emulator, affected: Outage
) -> None:
    bot.command("close Exports are back.", user="U0ANA", channel=affected.channel_id or "")
    (opened,) = emulator.calls_to("views.open")
    view = opened.args["view"]
    view = view if isinstance(view, dict) else __import__("json").loads(view)
    assert view["callback_id"] == outage_blocks.CLOSE_FORM
    options = {
        o["text"]["text"]: o["value"]
        for b in view["blocks"]
        if b.get("block_id") == "leave_open"
        for o in b["element"]["options"]
    }
    assert set(options) == {"Globex Corp", "מגדל נתונים", "Initech"}
    bot.submit(
        view,
        {
            "resolution": {"type": "plain_text_input", "value": "Exports are back."},
            "leave_open": {
                "type": "multi_static_select",
                "selected_options": [{"value": options["Initech"]}],
            },
        },
        user="U0ANA",
    )
    found = account_crises(bot)
    assert found["Globex Corp"].status == "closed" and found["מגדל נתונים"].status == "closed"
    assert found["Initech"].status == "open"
    (closing,) = bot_posts(emulator, "C0SHARED")
    assert "Exports are back." in closing.text and "Initech" not in closing.text
    (closing_he,) = bot_posts(emulator, "C0MIGDAL")
    assert "Exports are back." in closing_he.text
    with bot.deps.session_factory() as session:
        outage = session.get(Outage, affected.id)
        assert outage is not None and outage.status == "closed"
    said = bot_posts(emulator, affected.channel_id or "")[-1].text
    assert "Outage closed by <@U0ANA>" in said and "Left open: Initech" in said
    # Closed, the outage takes no more broadcasts.
    bot.command("broadcast again", user="U0ANA", channel=affected.channel_id or "")
    assert "This outage is closed" in replies(emulator, "U0ANA")[-1]


@pytest.mark.parametrize(
    ("text", "channel", "expected"),
    [
        ("affected Globex", "C0GENERAL", "works in an outage's channel"),
        ("broadcast hello", "C0GENERAL", "works in an outage's channel"),
        ("outage sev1", "C0GENERAL", "Give the outage a title"),
        ("outage Exports down sev9", "C0GENERAL", "is not a severity I know"),
        ("affected", "OUTAGE", "Name the account"),
        ("split a, b", "OUTAGE", "Name one account at a time"),
        ("broadcast", "OUTAGE", "Say what we are doing"),
    ],
)
def test_bad_input_gets_a_clear_private_answer(
    bot: Bot, emulator: Emulator, outage: Outage, text: str, channel: str, expected: str
) -> None:
    where = outage.channel_id if channel == "OUTAGE" else channel
    answer = bot.command(text, user="U0ANA", channel=where or "")
    said = answer.text or replies(emulator, "U0ANA")[-1]
    assert expected in said, said
    assert "`/crisis" in said  # says how to do it right


def test_unknown_and_unaffected_accounts_are_named_and_nothing_is_added(
    bot: Bot, emulator: Emulator, outage: Outage
) -> None:
    bot.command("affected Globex, Umbrella", user="U0ANA", channel=outage.channel_id or "")
    assert "No account is called `Umbrella`" in replies(emulator, "U0ANA")[-1]
    assert account_crises(bot) == {}
    bot.command("unaffected Globex", user="U0ANA", channel=outage.channel_id or "")
    assert "is not among this outage's affected accounts" in replies(emulator, "U0ANA")[-1]
    bot.command("broadcast hello", user="U0ANA", channel=outage.channel_id or "")
    assert "No affected account to broadcast to" in replies(emulator, "U0ANA")[-1]


def test_the_form_declares_an_outage_with_accounts_picked_by_type_ahead(
    bot: Bot, emulator: Emulator, known: None
) -> None:
    bot.command("outage", user="U0ANA", channel="C0GENERAL")
    (opened,) = emulator.calls_to("views.open")
    view_id = opened.response["view"]["id"]
    answer = bot.suggest(
        view_id,
        "glo",
        block_id="accounts",
        action_id=outage_blocks.ACCOUNT_SEARCH,
        user="U0ANA",
    )
    options = answer.json()["options"]
    assert [o["text"]["text"] for o in options] == ["Globex Corp"]
    view = opened.args["view"]
    view = view if isinstance(view, dict) else __import__("json").loads(view)
    bot.submit(
        {**view, "id": view_id},
        {
            "title": {"type": "plain_text_input", "value": "Login failures"},
            "severity": {"type": "static_select", "selected_option": {"value": "sev2"}},
            "affected": {"type": "plain_text_input", "value": "signing in"},
            "accounts": {
                "type": "multi_external_select",
                "selected_options": [{"value": options[0]["value"]}],
            },
        },
        user="U0ANA",
    )
    with bot.deps.session_factory() as session:
        (outage,) = session.scalars(select(Outage)).all()
        assert (outage.title, outage.severity, outage.affected) == (
            "Login failures",
            "sev2",
            "signing in",
        )
        (link,) = session.scalars(select(OutageAccount)).all()
        assert link.account.name == "Globex Corp"


class Crash(BaseException):
    """The process dies: nothing after it runs, nothing is caught."""


def test_a_broadcast_cut_off_by_a_crash_resumes_without_posting_twice(
    bot: Bot, emulator: Emulator, clock: Clock, affected: Outage
) -> None:
    value = broadcast(bot, emulator, affected, "We are restoring exports.")
    real = bot.deps.slack
    posted: list[str] = []

    class DiesAfterTheFirstPost:
        """The gateway, killed right after Slack took the first customer message (its ts was
        never recorded)."""

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def post_to_customer(self, **kwargs: Any) -> str:
            ts = real.post_to_customer(**kwargs)
            posted.append(ts)
            raise Crash

    with bot.deps.session_factory() as session:
        scope = bot.deps.scope(session)
        scope = type(scope)(
            session=session,
            slack=DiesAfterTheFirstPost(),  # type: ignore[arg-type]
            settings=scope.settings,
            now=scope.now,
        )
        with pytest.raises(Crash):
            outages.send_broadcast(scope, broadcast_id=int(value), user_id="U0ANA")
    assert len(posted) == 1
    with bot.deps.session_factory() as session:
        keys = [d.key for d in session.scalars(select(BroadcastDelivery))]
        assert len(keys) == 3  # every account's key stored before the first post

    # Not before the resume delay: a broadcast still under way is left alone.
    assert jobs.resume_broadcasts(bot.deps) == 0
    clock.advance(minutes=6)
    emulator.clear_calls()
    assert jobs.resume_broadcasts(bot.deps) == 1
    assert len(bot_posts(emulator, "C0SHARED")) == 1
    assert len(bot_posts(emulator, "C0MIGDAL")) == 1
    # Only the message the dead process had claimed is looked for in Slack (once), not the
    # ones it never reached.
    looked = [c.args["channel"] for c in emulator.calls_to("conversations.history")]
    assert looked.count("C0SHARED") == 1 and "C0MIGDAL" not in looked, looked
    # (and the outage channel, for the summary the dead process may have posted)
    assert set(looked) == {"C0SHARED", affected.channel_id}
    assert len([m for m in emulator.dm_messages("U0BEN") if "Hello Initech" in m.text]) == 1
    with bot.deps.session_factory() as session:
        deliveries = session.scalars(select(BroadcastDelivery)).all()
        assert all(d.done_at is not None for d in deliveries)
        assert all(d.ts for d in deliveries)
    # And once finished, nothing more to resume.
    clock.advance(minutes=6)
    assert jobs.resume_broadcasts(bot.deps) == 0


def another_replica(bot: Bot) -> Deps:
    """A second process on the same database and Slack: its own claims token."""
    return replace(bot.deps, claims=Claims())


def told_once(bot: Bot, emulator: Emulator) -> None:
    """Every affected customer has the broadcast exactly once, and it is finished."""
    assert len(bot_posts(emulator, "C0SHARED")) == 1
    assert len(bot_posts(emulator, "C0MIGDAL")) == 1
    assert len([m for m in emulator.dm_messages("U0BEN") if "Hello Initech" in m.text]) == 1
    with bot.deps.session_factory() as session:
        (stored,) = session.scalars(select(Broadcast)).all()
        assert stored.finished_at is not None
        assert (stored.claimed_by, stored.lease_until) == (None, None)
        assert all(d.done_at is not None for d in session.scalars(select(BroadcastDelivery)))


def test_a_broadcast_cut_off_by_a_crash_is_resumed_by_the_next_tick_once_its_lease_runs_out(
    bot: Bot, emulator: Emulator, clock: Clock, affected: Outage
) -> None:
    value = broadcast(bot, emulator, affected, "We are restoring exports.")
    real = bot.deps.slack

    class DiesAfterTheFirstPost:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def post_to_customer(self, **kwargs: Any) -> str:
            real.post_to_customer(**kwargs)
            raise Crash

    dead = Claims()  # the process that dies: nobody renews its lease after the crash
    with bot.deps.session_factory() as session:
        scope = replace(bot.deps.scope(session), slack=DiesAfterTheFirstPost(), claims=dead)  # type: ignore[arg-type]
        with pytest.raises(Crash):
            outages.send_broadcast(scope, broadcast_id=int(value), user_id="U0ANA")
    with bot.deps.session_factory() as session:
        (stored,) = session.scalars(select(Broadcast)).all()
        assert stored.claimed_by == dead.token
        assert stored.lease_until == clock.current + bot.deps.settings.lease
    lease = bot.deps.settings.lease
    # Within the lease the dead process might still be sending: no replica touches it.
    assert jobs.resume_broadcasts(another_replica(bot)) == 0
    clock.advance(seconds=lease.total_seconds() - 1)
    assert jobs.resume_broadcasts(another_replica(bot)) == 0
    # Just past one lease (20 s, not 5 minutes): the next tick of any replica resumes it.
    clock.advance(seconds=2)
    emulator.clear_calls()
    survivor = another_replica(bot)
    assert jobs.resume_broadcasts(survivor) == 1
    told_once(bot, emulator)
    assert jobs.resume_broadcasts(another_replica(bot)) == 0


def test_a_broadcast_being_sent_is_not_taken_over_while_its_process_renews_the_lease(
    bot: Bot, emulator: Emulator, clock: Clock, affected: Outage
) -> None:
    value = broadcast(bot, emulator, affected, "We are restoring exports.")
    real = bot.deps.slack
    settings = bot.deps.settings
    checked: list[int] = []

    class SlowSlack:
        """Slack's rate limits hold the first customer message for two leases, while the
        heartbeat beats and another replica ticks."""

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def post_to_customer(self, **kwargs: Any) -> str:
            if not checked:
                beats = 2 * int(settings.lease / settings.heartbeat)
                for _ in range(beats):
                    clock.advance(seconds=settings.heartbeat.total_seconds())
                    assert renew_leases(bot.deps) == 1
                    checked.append(jobs.resume_broadcasts(another_replica(bot)))
            return str(real.post_to_customer(**kwargs))

    with bot.deps.session_factory() as session:
        scope = replace(bot.deps.scope(session), slack=SlowSlack())  # type: ignore[arg-type]
        result = outages.send_broadcast(scope, broadcast_id=int(value), user_id="U0ANA")
    assert result.finished and len(result.posted) == 2
    assert checked == [0] * 8  # forty seconds, and no replica took it over
    told_once(bot, emulator)
    assert renew_leases(bot.deps) == 0  # finished: nothing left to renew


def test_a_broadcast_a_stopping_process_leaves_is_given_back_and_finished_at_once(
    bot: Bot, emulator: Emulator, clock: Clock, affected: Outage
) -> None:
    value = broadcast(bot, emulator, affected, "We are restoring exports.")
    real = bot.deps.slack

    class StopsAfterTheFirstPost:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def post_to_customer(self, **kwargs: Any) -> str:
            ts = str(real.post_to_customer(**kwargs))
            bot.deps.claims.stop_starting()  # SIGTERM: Runtime.close() has begun
            return ts

    with bot.deps.session_factory() as session:
        scope = replace(bot.deps.scope(session), slack=StopsAfterTheFirstPost())  # type: ignore[arg-type]
        result = outages.send_broadcast(scope, broadcast_id=int(value), user_id="U0ANA")
    assert not result.finished and result.posted == ("Globex Corp",)
    assert len(bot_posts(emulator, "C0MIGDAL")) == 0
    assert release_claims(bot.deps) == 1  # as Runtime.close() gives back its claims
    with bot.deps.session_factory() as session:
        (stored,) = session.scalars(select(Broadcast)).all()
        assert (stored.claimed_by, stored.lease_until) == (None, clock.current)
    # Not after a lease: at once, by the next tick of another replica, nobody told twice.
    emulator.clear_calls()
    assert jobs.resume_broadcasts(another_replica(bot)) == 1
    told_once(bot, emulator)
    looked = [c.args["channel"] for c in emulator.calls_to("conversations.history")]
    assert "C0MIGDAL" not in looked  # a message it never claimed is not looked for
    # One summary in the outage channel, counting the accounts both processes told.
    (summary,) = [
        m for m in bot_posts(emulator, affected.channel_id or "") if "broadcast" in m.text
    ]
    assert "broadcast to 3 affected accounts: 2 posted" in summary.text


def test_send_pressed_as_the_process_stops_tells_who_pressed_it_another_sends_it(
    bot: Bot, emulator: Emulator, affected: Outage
) -> None:
    value = broadcast(bot, emulator, affected, "We are restoring exports.")
    bot.deps.claims.stop_starting()  # SIGTERM arrived just as *Send* was pressed
    bot.click(outage_blocks.SEND_BROADCAST, value, user="U0ANA", channel=affected.channel_id)
    assert bot_posts(emulator, "C0SHARED") == []
    said = replies(emulator, "U0ANA")[-1]
    assert "another one sends the rest within seconds" in said, said
    assert release_claims(bot.deps) == 1
    assert jobs.resume_broadcasts(another_replica(bot)) == 1
    told_once(bot, emulator)


def test_closing_again_after_a_crash_finishes_without_telling_anyone_twice(
    bot: Bot, emulator: Emulator, affected: Outage
) -> None:
    real = bot.deps.slack

    class DiesAfterTheFirstPost:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def post_to_customer(self, **kwargs: Any) -> str:
            real.post_to_customer(**kwargs)
            raise Crash

    with bot.deps.session_factory() as session:
        scope = bot.deps.scope(session)
        dying = type(scope)(
            session=session,
            slack=DiesAfterTheFirstPost(),  # type: ignore[arg-type]
            settings=scope.settings,
            now=scope.now,
        )
        outage = session.get(Outage, affected.id)
        assert outage is not None
        with pytest.raises(Crash):
            outages.close(dying, outage=outage, actor_id="U0ANA", resolution="Exports are back.")
    # The outage is still open, with the crises not yet closed: closing it again finishes.
    assert {c.status for c in account_crises(bot).values()} == {"open"}
    with bot.deps.session_factory() as session:
        outage = session.get(Outage, affected.id)
        assert outage is not None and outage.status == "open"
        outages.close(
            bot.deps.scope(session), outage=outage, actor_id="U0ANA", resolution="Exports are back."
        )
    assert {c.status for c in account_crises(bot).values()} == {"closed"}
    assert len(bot_posts(emulator, "C0SHARED")) == 1
    assert len(bot_posts(emulator, "C0MIGDAL")) == 1
    assert len([m for m in emulator.dm_messages("U0BEN") if "Exports are back." in m.text]) == 1


def test_closing_an_outage_that_is_gone_says_so_in_the_outages_words(
    bot: Bot, emulator: Emulator, affected: Outage
) -> None:
    bot.command("close Exports are back.", user="U0ANA", channel=affected.channel_id or "")
    (opened,) = emulator.calls_to("views.open")
    view = opened.args["view"]
    view = view if isinstance(view, dict) else __import__("json").loads(view)
    # The form names an outage this workspace has no longer (another's, or a stale id).
    view = {**view, "private_metadata": '{"outage": 999999}'}
    bot.submit(
        view,
        {"resolution": {"type": "plain_text_input", "value": "Exports are back."}},
        user="U0ANA",
    )
    # No outage, no channel: told by DM.
    said = [
        str(c.args.get("text", ""))
        for c in emulator.calls_to("chat.postMessage")
        if c.args.get("channel") == "U0ANA"
    ][-1]
    assert "can't find that outage" in said and "/crisis close" in said
    assert "broadcast" not in said
    assert all(c.status == "open" for c in account_crises(bot).values())
