"""Who may do what: owner, responders and admins manage; other organisations see nothing."""

import pytest

from bot.config import Admins, Settings
from bot.db.models import Crisis, StatusUpdate
from sandbox import Emulator
from tests.conftest import make_settings
from tests.harness import Bot


@pytest.fixture
def settings() -> Settings:
    # dana is an admin through the cs-leads user group (S0CSLEADS in the emulator).
    return make_settings(admins="S0CSLEADS", escalation_channel="C0ESCAL")


@pytest.fixture
def channel(bot: Bot) -> str:
    """ana's crisis, with chen as responder (ben is neither)."""
    bot.command("new", channel="C0GENERAL")
    view = bot.emulator.open_views("U0ANA")[-1].view
    bot.submit(
        view,
        {
            "customer": {"type": "plain_text_input", "value": "Acme Corp"},
            "experienced": {"type": "plain_text_input", "value": "Dashboards empty"},
            "severity": {"type": "static_select", "selected_option": {"value": "sev1"}},
            "owner": {"type": "users_select", "selected_user": "U0ANA"},
            "responders": {"type": "multi_users_select", "selected_users": ["U0CHEN"]},
        },
    )
    with bot.deps.session_factory() as session:
        found = session.query(Crisis).one().channel_id
    assert found
    return found


def last_reply(emulator: Emulator, user: str) -> str:
    return [p.text for p in emulator.response_posts if p.user == user][-1]


def updates(bot: Bot) -> list[str]:
    with bot.deps.session_factory() as session:
        return [u.author_id for u in session.query(StatusUpdate).order_by(StatusUpdate.id)]


def test_a_bystander_is_refused_politely_with_who_can(
    bot: Bot, emulator: Emulator, channel: str
) -> None:
    bot.command("update All fine now", user="U0BEN", channel=channel)
    refusal = last_reply(emulator, "U0BEN")
    assert refusal.startswith(":lock: Only the owner (<@U0ANA>), the responders (<@U0CHEN>)")
    # The admins are named too: here a user group, which Slack shows as @cs-leads.
    assert (
        " and crisisbot admins (<!subteam^S0CSLEADS>) can post updates for this crisis" in refusal
    )
    bot.command("close Done", user="U0BEN", channel=channel)
    assert "can close this crisis" in last_reply(emulator, "U0BEN")
    assert updates(bot) == []
    with bot.deps.session_factory() as session:
        assert session.query(Crisis).one().status == "open"


def test_the_refusal_names_admin_users_and_groups_and_reads_right_without_them(
    bot: Bot, emulator: Emulator, channel: str
) -> None:
    bot.deps.settings.admins = Admins(users=("U0DANA",), groups=("S0CSLEADS",))
    bot.command("close Done", user="U0BEN", channel=channel)
    assert last_reply(emulator, "U0BEN").startswith(
        ":lock: Only the owner (<@U0ANA>), the responders (<@U0CHEN>) and crisisbot admins"
        " (<@U0DANA>, <!subteam^S0CSLEADS>) can close this crisis."
    )
    bot.deps.settings.admins = Admins()
    bot.command("close Done", user="U0BEN", channel=channel)
    assert last_reply(emulator, "U0BEN").startswith(
        ":lock: Only the owner (<@U0ANA>) and the responders (<@U0CHEN>) can close this crisis."
    )


def test_owner_responders_and_group_admins_may(bot: Bot, channel: str) -> None:
    bot.command("update Investigating", user="U0ANA", channel=channel)
    bot.command("update Found it", user="U0CHEN", channel=channel)
    bot.command("update Fix deploying", user="U0DANA", channel=channel)
    assert updates(bot) == ["U0ANA", "U0CHEN", "U0DANA"]


def test_buttons_and_reactions_check_too(bot: Bot, emulator: Emulator, channel: str) -> None:
    with bot.deps.session_factory() as session:
        crisis = session.query(Crisis).one()
    bot.click(
        "crisis_open_close",
        str(crisis.id),
        user="U0BEN",
        channel=channel,
        message_ts=crisis.card_ts,
    )
    assert emulator.open_views("U0BEN") == []
    assert "can close this crisis" in last_reply(emulator, "U0BEN")
    emulator.workspace.channels[channel].members.add("U0BEN")
    note = emulator.post_as_user("U0BEN", channel, "all good, trust me")
    bot.react("mega", user="U0BEN", channel=channel, ts=note.ts)
    assert "can post updates for" in emulator.ephemerals("U0BEN", channel)[-1].text
    assert updates(bot) == []
    # Acknowledging is open to everyone on the team.
    bot.click(
        "crisis_ack", str(crisis.id), user="U0BEN", channel=channel, message_ts=crisis.card_ts
    )
    assert "Acknowledged by <@U0BEN>" in str(emulator.messages(channel)[0].blocks)


def test_someone_from_another_organisation_cannot_list_or_act(
    bot: Bot, emulator: Emulator, channel: str
) -> None:
    answer = bot.command("list", user="U0CORA", channel="C0SHARED").text
    assert "for the team running the crisis" in answer and "Acme" not in answer
    refused = bot.command("new Globex: we are down", user="U0CORA", channel="C0SHARED").text
    assert "for the team running the crisis" in refused and "Declaring" not in refused
    assert emulator.channel_by_name("crisis-20261122-globex") is None
    with bot.deps.session_factory() as session:
        crisis = session.query(Crisis).one()
    emulator.workspace.channels[channel].members.add("U0CORA")
    bot.react("eyes", user="U0CORA", channel=channel, ts=crisis.card_ts or "")
    with bot.deps.session_factory() as session:
        assert session.query(Crisis).one().acknowledgements == []


def test_escalations_stay_out_of_a_channel_the_customer_shares(
    bot: Bot, emulator: Emulator, channel: str
) -> None:
    emulator.workspace.channels[channel].is_ext_shared = True  # the customer was invited in
    bot.clock.advance(minutes=61)
    kinds = [s.kind for s in bot.sweep()]
    assert "escalation" in kinds
    assert "Escalation" in emulator.messages("C0ESCAL")[-1].text
    assert not any("escalated" in m.text for m in emulator.messages(channel))
    told = emulator.dm_messages("U0ANA")[-1].text
    assert told.startswith(":sos: Escalated in <#C0ESCAL>: the update to *Acme Corp*")


def test_the_bot_ignores_its_own_reactions(bot: Bot, emulator: Emulator, channel: str) -> None:
    with bot.deps.session_factory() as session:
        crisis = session.query(Crisis).one()
    bot.react("eyes", user="U0BOT", channel=channel, ts=crisis.card_ts or "")
    with bot.deps.session_factory() as session:
        assert session.query(Crisis).one().acknowledgements == []


def test_a_form_delivered_twice_declares_once(bot: Bot, emulator: Emulator) -> None:
    bot.command("new")
    view = emulator.open_views("U0ANA")[-1].view
    values = {
        "customer": {"type": "plain_text_input", "value": "Initech"},
        "experienced": {"type": "plain_text_input", "value": "Exports fail"},
        "severity": {"type": "static_select", "selected_option": {"value": "sev2"}},
        "owner": {"type": "users_select", "selected_user": "U0ANA"},
    }
    bot.submit(view, values)
    bot.submit(view, values)
    assert len(emulator.calls_to("conversations.create")) == 1
    with bot.deps.session_factory() as session:
        assert session.query(Crisis).count() == 1
