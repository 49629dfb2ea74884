"""Declaring for a customer who already has an open crisis asks first: go there, or declare."""

import pytest

from bot.db.models import Crisis
from sandbox import Emulator
from tests.harness import Answer, Bot


def declared_crises(bot: Bot) -> list[Crisis]:
    with bot.deps.session_factory() as session:
        return list(session.query(Crisis).order_by(Crisis.id))


def buttons(blocks: list[dict]) -> dict[str, dict]:
    return {
        element["action_id"]: element
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
    }


def ask_again(bot: Bot, text: str = "new  acme corp : invoices doubled sev1") -> Answer:
    assert bot.command("new Acme Corp: dashboards empty").status == 200
    return bot.command(text)


def test_a_second_declaration_asks_first_and_declares_nothing(bot: Bot, emulator: Emulator) -> None:
    answer = ask_again(bot)
    (first,) = declared_crises(bot)
    assert first.channel_id
    assert answer.text.startswith(
        f":information_source: *Acme Corp* already has an open crisis: <#{first.channel_id}>"
        " (owner <@U0ANA>)."
    )
    assert "Nothing is declared until you choose." in answer.text
    choices = buttons(answer.json()["blocks"])
    go_to = choices["crisis_go_to"]
    assert go_to["text"]["text"] == "Go to #crisis-20261122-acme-corp"
    assert go_to["url"] == f"https://slack.com/app_redirect?channel={first.channel_id}"
    assert choices["crisis_declare_anyway"]["text"]["text"] == "Declare anyway"
    assert len(emulator.calls_to("conversations.create")) == 1


def test_declare_anyway_declares_the_same_request_once_however_often_it_is_pressed(
    bot: Bot, emulator: Emulator
) -> None:
    answer = ask_again(bot)
    value = buttons(answer.json()["blocks"])["crisis_declare_anyway"]["value"]
    assert bot.click("crisis_declare_anyway", value, channel="C0GENERAL").status == 200
    assert bot.click("crisis_declare_anyway", value, channel="C0GENERAL").status == 200
    first, second = declared_crises(bot)
    assert (second.customer, second.experienced, second.severity) == (
        "acme corp",
        "invoices doubled",
        "sev1",
    )
    assert second.channel_id and second.channel_id != first.channel_id
    assert len([c for c in emulator.calls_to("conversations.create") if c.ok]) == 2
    told = [p.text for p in emulator.response_posts if p.user == "U0ANA"]
    assert any(f"declared in <#{second.channel_id}>" in text for text in told)
    assert told[-1] == (
        f":information_source: The second crisis for *acme corp* is declared in"
        f" <#{second.channel_id}>."
    )


def test_only_the_declarer_can_declare_anyway(bot: Bot, emulator: Emulator) -> None:
    answer = ask_again(bot)
    value = buttons(answer.json()["blocks"])["crisis_declare_anyway"]["value"]
    bot.click("crisis_declare_anyway", value, user="U0BEN", channel="C0GENERAL")
    assert len(declared_crises(bot)) == 1
    told = [p.text for p in emulator.response_posts if p.user == "U0BEN"]
    assert told == [
        ":warning: I can't find that declaration any more. Declare it again with `/crisis new`."
    ]


def test_the_go_to_link_is_acknowledged(bot: Bot) -> None:
    answer = ask_again(bot)
    go_to = buttons(answer.json()["blocks"])["crisis_go_to"]
    assert bot.click("crisis_go_to", go_to["value"], channel="C0GENERAL").status == 200
    assert len(declared_crises(bot)) == 1


@pytest.mark.parametrize("name", ["Globex", "Acme"])
def test_other_customers_and_closed_crises_declare_at_once(
    bot: Bot, emulator: Emulator, name: str
) -> None:
    bot.command("new Acme: dashboards empty")
    if name == "Acme":
        channel = declared_crises(bot)[0].channel_id or ""
        bot.command("close fixed", channel=channel)
    answer = bot.command(f"new {name}: invoices doubled")
    assert answer.text.startswith(":rotating_light: Declaring a crisis for")
    assert len(declared_crises(bot)) == 2


FORM = {
    "customer": {"type": "plain_text_input", "value": " ACME CORP "},
    "experienced": {"type": "plain_text_input", "value": "Invoices doubled"},
    "expected": {"type": "plain_text_input", "value": "One invoice a month"},
    "kind": {"type": "static_select", "selected_option": {"value": "billing_financial"}},
    "severity": {"type": "static_select", "selected_option": {"value": "sev3"}},
    "owner": {"type": "users_select", "selected_user": "U0BEN"},
    "responders": {"type": "multi_users_select", "selected_users": ["U0CHEN"]},
}


def test_the_form_asks_too_and_declare_anyway_keeps_every_field(
    bot: Bot, emulator: Emulator
) -> None:
    bot.command("new Acme Corp: dashboards empty")
    bot.command("new", channel="C0CRISES")
    view = emulator.open_views("U0ANA")[-1].view
    assert bot.submit(view, FORM).body == ""
    assert len(declared_crises(bot)) == 1
    question = emulator.ephemerals("U0ANA", "C0CRISES")[-1]
    assert "already has an open crisis" in question.text
    value = buttons(question.blocks or [])["crisis_declare_anyway"]["value"]
    bot.click("crisis_declare_anyway", value, channel="C0CRISES")
    _, second = declared_crises(bot)
    assert (second.customer, second.kind, second.severity, second.owner_id) == (
        "ACME CORP",
        "billing_financial",
        "sev3",
        "U0BEN",
    )
    assert (second.expected, second.responders) == ("One invoice a month", ["U0CHEN"])


def test_a_form_delivered_twice_is_not_asked_about_its_own_crisis(
    bot: Bot, emulator: Emulator
) -> None:
    bot.command("new", channel="C0CRISES")
    view = emulator.open_views("U0ANA")[-1].view
    values = dict(FORM)
    bot.submit(view, values)
    bot.submit(view, values)
    assert len(declared_crises(bot)) == 1
    assert not any("already has an open crisis" in e.text for e in emulator.ephemerals("U0ANA"))
