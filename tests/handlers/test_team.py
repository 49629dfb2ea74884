"""Managing a crisis after declaring it: responders, severity, kind, reopen, list mine."""

import json

import pytest

from bot.db.models import Crisis, TimelineEvent
from sandbox import Emulator
from tests.conftest import Clock
from tests.harness import Bot


@pytest.fixture
def declared(bot: Bot) -> tuple[str, Crisis]:
    bot.command("new Acme Corp: dashboards empty sev2")
    with bot.deps.session_factory() as session:
        crisis = session.query(Crisis).one()
    assert crisis.channel_id
    return crisis.channel_id, crisis


def stored(bot: Bot) -> Crisis:
    with bot.deps.session_factory() as session:
        crisis = session.query(Crisis).one()
        session.expunge(crisis)
        return crisis


def events(bot: Bot) -> list[tuple[str, str | None, str]]:
    with bot.deps.session_factory() as session:
        return [
            (e.kind, e.actor_id, e.detail)
            for e in session.query(TimelineEvent).order_by(TimelineEvent.id)
        ]


def replies(emulator: Emulator, user: str = "U0ANA") -> list[str]:
    return [p.text for p in emulator.response_posts if p.user == user]


def card(emulator: Emulator, channel: str) -> str:
    return json.dumps(emulator.messages(channel)[0].blocks, ensure_ascii=False)


def test_add_invites_updates_the_card_and_records_it(
    bot: Bot, emulator: Emulator, declared: tuple[str, Crisis]
) -> None:
    channel, _ = declared
    answer = bot.command("add <@U0BEN|ben> <@U0CHEN|chen>", channel=channel)
    assert answer.status == 200
    assert {"U0BEN", "U0CHEN"} <= emulator.workspace.channels[channel].members
    assert "added <@U0BEN>, <@U0CHEN> as responders" in emulator.messages(channel)[-1].text
    assert "*Responders*\\n<@U0BEN>, <@U0CHEN>" in card(emulator, channel)
    assert stored(bot).responders == ["U0BEN", "U0CHEN"]
    assert ("responder_added", "U0ANA", "U0BEN,U0CHEN") in events(bot)
    # A new responder may now manage it, and the timeline names who was added.
    bot.command("status", user="U0BEN", channel=channel)
    assert "added a responder: <@U0BEN>, <@U0CHEN>" in json.dumps(
        emulator.response_posts[-1].blocks
    )


def test_add_tells_by_dm_whom_the_invite_missed(
    bot: Bot, emulator: Emulator, declared: tuple[str, Crisis]
) -> None:
    channel, _ = declared
    # Slack refuses the invite for both, then for dana alone (say, a guest it can't add).
    emulator.fail_next("conversations.invite", "cant_invite", times=2)
    bot.command("add <@U0DANA> <@U0BEN>", channel=channel)
    assert "U0BEN" in emulator.workspace.channels[channel].members
    assert "U0DANA" not in emulator.workspace.channels[channel].members
    assert stored(bot).responders == ["U0DANA", "U0BEN"]
    told = emulator.dm_messages("U0DANA")
    assert told and "couldn't invite you to" in told[-1].text
    assert not any("couldn't invite" in m.text for m in emulator.dm_messages("U0BEN"))


def test_remove_tells_them_and_updates_the_card(
    bot: Bot, emulator: Emulator, declared: tuple[str, Crisis]
) -> None:
    channel, _ = declared
    bot.command("add <@U0BEN> <@U0CHEN>", channel=channel)
    bot.command("remove <@U0BEN|ben>", channel=channel)
    assert "removed <@U0BEN> from the responders" in emulator.messages(channel)[-1].text
    assert "removed you from the responders" in emulator.dm_messages("U0BEN")[-1].text
    assert "*Responders*\\n<@U0CHEN>" in card(emulator, channel)
    assert stored(bot).responders == ["U0CHEN"]
    assert ("responder_removed", "U0ANA", "U0BEN") in events(bot)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("add", "Mention who"),
        ("add ben", "Mention who"),
        ("add <@U0BEN> and ben", "I could not read `and ben`"),
        ("remove", "Mention who"),
    ],
)
def test_add_and_remove_without_people_say_how(
    bot: Bot, declared: tuple[str, Crisis], text: str, says: str
) -> None:
    channel, _ = declared
    answer = bot.command(text, channel=channel)
    assert says in answer.text and "Usage: `/crisis" in answer.text


def test_add_and_remove_refuse_the_wrong_people_privately(
    bot: Bot, emulator: Emulator, declared: tuple[str, Crisis]
) -> None:
    channel, _ = declared
    before = len(emulator.messages(channel))
    bot.command("add <@U0BOT>", channel=channel)
    assert "A bot can't be a responder" in replies(emulator)[-1]
    bot.command("add <@U0ANA>", channel=channel)
    assert "<@U0ANA> owns this crisis" in replies(emulator)[-1]
    bot.command("remove <@U0ANA>", channel=channel)
    assert "owns this crisis, so they can't be removed" in replies(emulator)[-1]
    bot.command("remove <@U0BEN>", channel=channel)
    assert "<@U0BEN> is not a responder" in replies(emulator)[-1]
    bot.command("add <@U0BEN>", channel=channel)
    bot.command("add <@U0BEN> <@U0CHEN>", channel=channel)
    assert "<@U0BEN> is already a responder. The others are added." in replies(emulator)[-1]
    assert stored(bot).responders == ["U0BEN", "U0CHEN"]
    assert len(emulator.messages(channel)) == before + 2  # only the two real additions


def test_only_managers_may_add(bot: Bot, emulator: Emulator, declared: tuple[str, Crisis]) -> None:
    channel, _ = declared
    bot.command("add <@U0CHEN>", user="U0BEN", channel=channel)
    assert "Only the owner" in replies(emulator, "U0BEN")[-1]
    assert stored(bot).responders == []


def test_severity_moves_card_topic_and_cadence_but_not_the_promise(
    bot: Bot, emulator: Emulator, clock: Clock, declared: tuple[str, Crisis]
) -> None:
    channel, _ = declared
    promised = stored(bot).next_update_due_at  # sev2: an hour after declaring
    clock.advance(minutes=5)
    bot.command("severity SEV1", channel=channel)
    after = stored(bot)
    assert after.severity == "sev1" and after.cadence_seconds == 30 * 60
    assert after.next_update_due_at == promised  # the customer's promise stands
    assert "SEV1 · critical" in card(emulator, channel)
    assert "· SEV1 ·" in emulator.workspace.channels[channel].topic.value
    said = emulator.messages(channel)[-1].text
    assert "changed the severity to *SEV1 · critical*" in said and "every 30m" in said
    assert ("severity_changed", "U0ANA", "sev2 -> sev1") in events(bot)
    # The next promise uses the new cadence.
    clock.advance(minutes=5)
    bot.command("update Still investigating", channel=channel)
    renewed = stored(bot).next_update_due_at
    assert renewed is not None and renewed == clock() + __import__("datetime").timedelta(minutes=30)


def test_bad_or_same_severity_is_explained(
    bot: Bot, emulator: Emulator, declared: tuple[str, Crisis]
) -> None:
    channel, _ = declared
    answer = bot.command("severity urgent", channel=channel)
    assert "`urgent` is not a severity" in answer.text and "`sev1`" in answer.text
    assert "Pick one of" in bot.command("severity", channel=channel).text
    bot.command("severity sev2", channel=channel)
    assert "already *SEV2 · major*" in replies(emulator)[-1]


def test_kind_by_key_or_label_updates_the_card(
    bot: Bot, emulator: Emulator, declared: tuple[str, Crisis]
) -> None:
    channel, _ = declared
    bot.command("kind Service Outage", channel=channel)
    assert stored(bot).kind == "service_outage"
    assert "Service outage" in card(emulator, channel)
    assert "changed the kind to *Service outage*" in emulator.messages(channel)[-1].text
    bot.command("kind billing_financial", channel=channel)
    assert stored(bot).kind == "billing_financial"
    assert ("kind_changed", "U0ANA", "service_outage -> billing_financial") in events(bot)
    answer = bot.command("kind meteor strike", channel=channel)
    assert "I don't know the kind `meteor strike`" in answer.text
    assert "Service outage" in answer.text and "Billing or financial" in answer.text
    assert "Question or request" not in answer.text


def test_reopen_records_the_reason(
    bot: Bot, emulator: Emulator, declared: tuple[str, Crisis]
) -> None:
    channel, _ = declared
    bot.command("close Fixed", channel=channel)
    assert "Say why it is being reopened" in bot.command("reopen", channel=channel).text
    bot.command("reopen The dashboards &lt;emptied&gt; again", channel=channel)
    said = emulator.messages(channel)[-1].text
    assert "Reopened by <@U0ANA>" in said and "*Why:* The dashboards &lt;emptied&gt; again" in said
    assert ("reopened", "U0ANA", "The dashboards <emptied> again") in events(bot)


def test_list_mine_shows_only_yours(
    bot: Bot, emulator: Emulator, declared: tuple[str, Crisis]
) -> None:
    bot.command("new Globex: invoices doubled sev3", user="U0BEN")
    bot.command("new Initech: exports fail sev3", user="U0CHEN")
    initech = emulator.channel_by_name("crisis-20261122-initech")
    assert initech is not None
    bot.command("add <@U0ANA>", user="U0CHEN", channel=initech.id)
    bot.command("list mine")
    listing = emulator.response_posts[-1]
    assert listing.text == "*2 open crises of yours*, overdue first"
    shown = json.dumps(listing.blocks)
    assert "Acme Corp" in shown and "Initech" in shown and "Globex" not in shown
    bot.command("list mine", user="U0DANA")
    assert "You own or respond to no open crisis" in emulator.response_posts[-1].text
    assert "Usage: `/crisis list`" in bot.command("list everything").text
