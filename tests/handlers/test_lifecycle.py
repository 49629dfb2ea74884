"""Acknowledge, update, hand over, close and reopen, as users do it in Slack."""

import json

import pytest

from bot.db.models import Acknowledgement, Crisis, StatusUpdate, TimelineEvent
from sandbox import Emulator
from tests.conftest import Clock
from tests.harness import Bot


@pytest.fixture
def declared(bot: Bot, emulator: Emulator) -> tuple[str, Crisis]:
    bot.command("new Acme Corp: dashboards empty sev1")
    with bot.deps.session_factory() as session:
        crisis = session.query(Crisis).one()
    assert crisis.channel_id
    return crisis.channel_id, crisis


def card_blocks(emulator: Emulator, channel: str) -> str:
    return json.dumps(emulator.messages(channel)[0].blocks)


def last_reply(emulator: Emulator, user: str = "U0ANA") -> str:
    posts = [p.text for p in emulator.response_posts if p.user == user]
    return posts[-1] if posts else ""


def timeline(bot: Bot) -> list[tuple[str, str | None]]:
    with bot.deps.session_factory() as session:
        return [
            (e.kind, e.actor_id) for e in session.query(TimelineEvent).order_by(TimelineEvent.id)
        ]


def test_reaction_on_the_card_acknowledges_once_and_edits_the_card(
    bot: Bot, emulator: Emulator, clock: Clock, declared: tuple[str, Crisis]
) -> None:
    channel, crisis = declared
    clock.advance(minutes=3)
    assert bot.react("eyes", user="U0BEN", channel=channel, ts=crisis.card_ts or "").status == 200
    assert "Acknowledged by <@U0BEN> in 3 min" in card_blocks(emulator, channel)
    clock.advance(minutes=2)
    bot.click(
        "crisis_ack", str(crisis.id), user="U0BEN", channel=channel, message_ts=crisis.card_ts
    )
    assert "already acknowledged" in last_reply(emulator, "U0BEN")
    bot.click(
        "crisis_ack", str(crisis.id), user="U0CHEN", channel=channel, message_ts=crisis.card_ts
    )
    bot.command("ack", user="U0DANA", channel=channel)
    blocks = card_blocks(emulator, channel)
    assert "<@U0BEN> in 3 min, <@U0CHEN> in 5 min, <@U0DANA> in 5 min" in blocks
    with bot.deps.session_factory() as session:
        acks = session.query(Acknowledgement).order_by(Acknowledgement.id).all()
        assert [(a.user_id, a.via) for a in acks] == [
            ("U0BEN", "reaction"),
            ("U0CHEN", "button"),
            ("U0DANA", "command"),
        ]
        assert session.get(Crisis, crisis.id).seconds_to_first_ack == 180  # type: ignore[union-attr]
    bot.command("ack", user="U0DANA", channel=channel)
    assert "already acknowledged" in last_reply(emulator, "U0DANA")


def test_a_redelivered_event_is_handled_once(
    bot: Bot, emulator: Emulator, declared: tuple[str, Crisis]
) -> None:
    channel, crisis = declared
    event = {
        "type": "reaction_added",
        "user": "U0BEN",
        "reaction": "eyes",
        "item": {"type": "message", "channel": channel, "ts": crisis.card_ts},
    }
    assert bot.event(event, event_id="Ev1").status == 200
    assert bot.event(event, event_id="Ev1", retry=1).status == 200
    assert timeline(bot).count(("acknowledged", "U0BEN")) == 1
    assert len([c for c in emulator.calls_to("chat.update")]) == 1


def test_the_eyes_emoji_elsewhere_is_just_an_emoji(
    bot: Bot, emulator: Emulator, declared: tuple[str, Crisis]
) -> None:
    ts = emulator.post_as_user("U0BEN", "C0GENERAL", "lunch?").ts
    bot.react("eyes", user="U0CHEN", channel="C0GENERAL", ts=ts)
    assert ("acknowledged", "U0CHEN") not in timeline(bot)


def test_update_command_posts_renews_the_pinned_commitment_and_restarts_the_clock(
    bot: Bot, emulator: Emulator, clock: Clock, declared: tuple[str, Crisis]
) -> None:
    channel, crisis = declared
    clock.advance(minutes=20)
    bot.command("update Found the cause: a stuck ingest job. Fix rolling out.", channel=channel)
    posted = emulator.messages(channel)[-1].text
    assert posted.startswith(":mega: *Status update* from <@U0ANA>")
    assert "Found the cause: a stuck ingest job." in posted
    due = int(clock().timestamp()) + 30 * 60
    pinned = emulator.pins(channel)[0]
    assert f"<!date^{due}^" in pinned.text and pinned.ts == crisis.commitment_ts
    assert "Update posted" in last_reply(emulator)
    with bot.deps.session_factory() as session:
        stored = session.get(Crisis, crisis.id)
        assert stored is not None and int(stored.next_update_due_at.timestamp()) == due  # type: ignore[union-attr]


def test_update_modal_from_the_card_button(
    bot: Bot, emulator: Emulator, declared: tuple[str, Crisis]
) -> None:
    channel, crisis = declared
    bot.click("crisis_open_update", str(crisis.id), channel=channel, message_ts=crisis.card_ts)
    view = emulator.open_views("U0ANA")[-1].view
    assert view["callback_id"] == "post_update"
    answer = bot.submit(
        view,
        {
            "what_happened": {"type": "plain_text_input", "value": "Ingest stalled at 09:10"},
            "doing": {"type": "plain_text_input", "value": "Restarting the pipeline"},
            "next_steps": {"type": "plain_text_input", "value": "Backfill the gap"},
            "next_in": {"type": "static_select", "selected_option": {"value": "2h"}},
        },
    )
    assert answer.status == 200
    text = emulator.messages(channel)[-1].text
    assert "*What happened:* Ingest stalled at 09:10" in text
    assert "*What we are doing:* Restarting the pipeline" in text
    assert "*Next steps:* Backfill the gap" in text
    with bot.deps.session_factory() as session:
        update = session.query(StatusUpdate).one()
        assert update.next_update_due_at - update.posted_at == __import__("datetime").timedelta(
            hours=2
        )


def test_update_modal_needs_the_parts(
    bot: Bot, emulator: Emulator, declared: tuple[str, Crisis]
) -> None:
    channel, crisis = declared
    bot.click("crisis_open_update", str(crisis.id), channel=channel, message_ts=crisis.card_ts)
    view = emulator.open_views("U0ANA")[-1].view
    answer = bot.submit(
        view,
        {
            "what_happened": {"type": "plain_text_input", "value": ""},
            "doing": {"type": "plain_text_input", "value": "x"},
            "next_in": {"type": "static_select", "selected_option": {"value": "1h"}},
        },
    )
    assert answer.json()["errors"] == {
        "what_happened": 'Say what happened, even if it is "still investigating".'
    }


def test_update_emoji_quotes_a_teammates_message_once(
    bot: Bot, emulator: Emulator, declared: tuple[str, Crisis]
) -> None:
    channel, _ = declared
    emulator.workspace.channels[channel].members.add("U0BEN")
    # As Slack stores it: the typed "<b>" escaped, the @here mention as a token.
    note = emulator.post_as_user(
        "U0BEN", channel, "Customer told: fix &lt;b&gt;deployed&lt;/b&gt;, <!here> watching"
    )
    bot.react("mega", user="U0ANA", channel=channel, ts=note.ts)
    bot.react("mega", user="U0CHEN", channel=channel, ts=note.ts)
    quoted = [m.text for m in emulator.messages(channel) if "marked by" in m.text]
    assert len(quoted) == 1
    assert "> Customer told: fix &lt;b&gt;deployed&lt;/b&gt;, @here watching" in quoted[0]
    assert "<!here>" not in quoted[0]
    assert timeline(bot).count(("update", "U0ANA")) == 1


def test_channel_commands_elsewhere_say_where_to_run_them(
    bot: Bot, declared: tuple[str, Crisis]
) -> None:
    answer = bot.command("update all good", channel="C0GENERAL")
    assert "works inside a crisis channel" in answer.text


def test_owner_hand_over_tells_both_and_moves_the_card(
    bot: Bot, emulator: Emulator, declared: tuple[str, Crisis]
) -> None:
    channel, _ = declared
    bot.command("owner <@U0BEN|ben>", channel=channel)
    assert "now owns this crisis" in emulator.messages(channel)[-1].text
    assert "handed you the crisis" in emulator.dm_messages("U0BEN")[-1].text
    assert "Reminders go to them" in emulator.dm_messages("U0ANA")[-1].text
    assert '"*Owner*\\n<@U0BEN>"' in card_blocks(emulator, channel)
    assert "U0BEN" in emulator.workspace.channels[channel].members


def test_every_changes_the_cadence_from_the_next_update_on_and_keeps_the_promise(
    bot: Bot, emulator: Emulator, clock: Clock, declared: tuple[str, Crisis]
) -> None:
    channel, crisis = declared
    promised = int(crisis.next_update_due_at.timestamp())  # type: ignore[union-attr]
    clock.advance(minutes=10)
    bot.command("every 2h", channel=channel)
    said = emulator.messages(channel)[-1].text
    assert "set updates every 2h, from the next update on" in said
    assert f"still promised by <!date^{promised}^" in said
    reply = last_reply(emulator)
    assert f"The next promise is still <!date^{promised}^" in reply
    assert "as told to Acme Corp. From the next update on, updates come every 2h." in reply
    assert "To move the promise, post an update that says when the next one comes" in reply
    # The pinned promise and the reminders stay as they were.
    assert f"<!date^{promised}^" in emulator.pins(channel)[0].text
    with bot.deps.session_factory() as session:
        stored = session.get(Crisis, crisis.id)
        assert stored is not None and stored.cadence_seconds == 7200
        assert int(stored.next_update_due_at.timestamp()) == promised  # type: ignore[union-attr]
    clock.advance(minutes=20)
    assert [s.kind for s in bot.sweep()] == ["overdue"]
    # The next update, without a time of its own, promises the new cadence.
    bot.command("update Fix rolling out", channel=channel)
    due = int(clock().timestamp()) + 7200
    assert f"<!date^{due}^" in emulator.pins(channel)[0].text
    assert "'soon' is not a duration" in bot.command("every soon", channel=channel).text


def test_the_pinned_commitment_says_when_the_update_is_overdue(
    bot: Bot, emulator: Emulator, clock: Clock, declared: tuple[str, Crisis]
) -> None:
    channel, crisis = declared
    due = int(crisis.next_update_due_at.timestamp())  # type: ignore[union-attr]
    clock.advance(minutes=30)
    assert "overdue" in [s.kind for s in bot.sweep()]
    pinned = emulator.pins(channel)[0]
    assert pinned.ts == crisis.commitment_ts
    assert pinned.text.startswith(
        f":rotating_light: *Update to Acme Corp overdue since <!date^{due}^"
    )
    assert "*Update overdue* since" in card_blocks(emulator, channel)
    bot.command("update Fix rolling out", channel=channel)
    assert emulator.pins(channel)[0].text.startswith(":hourglass_flowing_sand: *Next update")


def test_close_posts_the_closure_resolves_the_pin_and_reopen_restarts(
    bot: Bot, emulator: Emulator, clock: Clock, declared: tuple[str, Crisis]
) -> None:
    channel, crisis = declared
    clock.advance(hours=2)
    bot.command("close Ingest fixed and data backfilled", channel=channel)
    closure = emulator.messages(channel)[-1].text
    assert "*What was resolved:* Ingest fixed and data backfilled" in closure
    # The crisis channel is the team's: say what happens next for them, not for a customer.
    assert "questions" not in closure
    follow_up = int(clock().timestamp()) + 3 * 86400
    assert closure.endswith(
        "Reminders have stopped. I will remind <@U0ANA> to check in with Acme Corp"
        f" <!date^{follow_up}^" + "{date_short_pretty} at {time}|2026-11-25 16:00 UTC>."
    )
    assert emulator.pins(channel)[0].text.startswith(":white_check_mark: *Resolved*")
    card = card_blocks(emulator, channel)
    assert "crisis_ack" not in card and "react with" not in card
    assert "check in with the customer" in last_reply(emulator)
    with bot.deps.session_factory() as session:
        stored = session.get(Crisis, crisis.id)
        assert stored is not None and stored.seconds_to_resolve == 7200
    bot.command("close again", channel=channel)
    assert "already closed" in last_reply(emulator)
    bot.command("reopen The fix did not hold", channel=channel)
    assert "Reopened by <@U0ANA>" in emulator.messages(channel)[-1].text
    assert emulator.pins(channel)[0].text.startswith(":hourglass_flowing_sand: *Next update")


def test_close_modal(bot: Bot, emulator: Emulator, declared: tuple[str, Crisis]) -> None:
    channel, crisis = declared
    bot.click("crisis_open_close", str(crisis.id), channel=channel, message_ts=crisis.card_ts)
    view = emulator.open_views("U0ANA")[-1].view
    assert view["callback_id"] == "close_crisis"
    assert view["submit"]["text"] == "Close crisis"
    bot.submit(
        view,
        {
            "resolution": {"type": "plain_text_input", "value": "Credit note issued"},
            "follow_ups": {"type": "plain_text_input", "value": "Review billing rules"},
            "confirmed": {"type": "radio_buttons", "selected_option": {"value": "yes"}},
        },
    )
    text = emulator.messages(channel)[-1].text
    assert "*Follow-ups:* Review billing rules" in text
    assert "The customer has confirmed the resolution." in text


def test_list_status_and_help(
    bot: Bot, emulator: Emulator, clock: Clock, declared: tuple[str, Crisis]
) -> None:
    channel, _ = declared
    bot.command("new Globex: invoices doubled sev3")
    clock.advance(minutes=45)  # Acme (sev1, 30m) is now overdue, Globex (sev3, 4h) is not
    bot.command("list")
    listing = emulator.response_posts[-1]
    assert listing.response_type == "ephemeral"
    assert listing.text == "*2 open crises*, overdue first"
    sections = [b["text"]["text"] for b in (listing.blocks or [])[1:]]
    assert "*Acme Corp*" in sections[0] and "Update overdue" in sections[0]
    assert "*Globex*" in sections[1] and "Next update by" in sections[1]
    bot.command("status", channel=channel)
    timeline_text = json.dumps(emulator.response_posts[-1].blocks)
    assert "declared the crisis" in timeline_text
    assert "crisis_ack" not in timeline_text
    help_text = bot.command("help").text
    assert "/crisis update" in help_text
    assert "*Who may do what*" in help_text
    assert "or react with :eyes: on the crisis card" in help_text
    assert "owner, its responders and crisisbot admins can post updates, close" in help_text
    assert "I don't know `dance`" in bot.command("dance").text


def test_a_slack_failure_reaches_the_user_and_keeps_the_record(
    bot: Bot, emulator: Emulator, declared: tuple[str, Crisis]
) -> None:
    channel, _ = declared
    emulator.fail_next("chat.postMessage", error="channel_not_found")
    bot.command("update Fix deployed", channel=channel)
    assert "Slack refused a step (crisis #1): `channel_not_found`" in last_reply(emulator)
    assert ("update", "U0ANA") in timeline(bot)
