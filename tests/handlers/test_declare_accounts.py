"""Declaring starts from the customer's account: matched by name or alias, its CSM owns the
crisis, its team responds, its contracted cadence sets the promises, and a name close to an
account's asks first."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.db.models import Account, Crisis, PendingDeclaration
from bot.services import accounts
from bot.services.accounts import AccountRecord
from sandbox import Emulator
from tests.harness import Answer, Bot
from tests.support import T0

BOTH_DATABASES = True

INITECH = AccountRecord(
    name="Initech",
    aliases=("Initech Global",),
    tier="strategic",
    csm_id="U0CHEN",
    team=("U0BEN", "U0DANA"),
    timezone="America/New_York",
    cadences=(15 * 60, 45 * 60, None, None),
)
# No CSM and nothing contracted: the declarer owns it, at the severity's default cadence.
ACME = AccountRecord(name="Acme Corp", aliases=("Acme",), tier="", timezone="Europe/Berlin")


@pytest.fixture
def known(bot: Bot) -> dict[str, int]:
    """The team's accounts, by name: their ids."""
    with bot.deps.session_factory() as session:
        accounts.upsert(session=session, records=[INITECH, ACME], now=T0)
        return {a.name: a.id for a in session.scalars(select(Account))}


def crises_stored(bot: Bot) -> list[Crisis]:
    with bot.deps.session_factory() as session:
        return list(session.scalars(select(Crisis).order_by(Crisis.id)))


def replies(emulator: Emulator, user: str = "U0ANA") -> list[str]:
    return [p.text for p in emulator.response_posts if p.user == user] + [
        e.text for e in emulator.ephemerals(user)
    ]


def buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        element["action_id"]: element
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
    }


def contexts(blocks: list[dict[str, Any]]) -> list[str]:
    return [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]


def test_an_alias_with_odd_case_and_accents_declares_for_the_account(
    bot: Bot, emulator: Emulator, known: dict[str, int]
) -> None:
    answer = bot.command("new  INITÉCH-global! : dashboards empty sev1")
    assert answer.text.startswith(":rotating_light: Declaring a crisis for *Initech*")

    (crisis,) = crises_stored(bot)
    assert (crisis.account_id, crisis.customer) == (known["Initech"], "Initech")
    assert (crisis.owner_id, crisis.responders, crisis.declared_by) == (
        "U0CHEN",
        ["U0BEN", "U0DANA"],
        "U0ANA",
    )
    # The contract promises sev1 updates every 15 minutes, not the default 30.
    assert crisis.cadence_seconds == 15 * 60
    assert crisis.next_update_due_at == T0 + timedelta(minutes=15)

    channel = emulator.channel_by_name("crisis-20261122-initech")
    assert channel is not None
    assert {"U0CHEN", "U0BEN", "U0DANA", "U0ANA"} <= channel.members
    card = emulator.messages(channel.id)[0]
    # 14:00 UTC is 09:00 in New York.
    assert "Strategic · customer's time 09:00 EST" in contexts(card.blocks or [])
    assert "*Owner*\n<@U0CHEN>" in [f["text"] for f in card.blocks[1]["fields"]]

    (dm,) = emulator.dm_messages("U0CHEN")
    assert dm.text.startswith(
        f":rotating_light: <@U0ANA> declared a crisis for *Initech* (<#{channel.id}>);"
        " you own it as the account's CSM."
    )
    told = next(t for t in replies(emulator) if "declared in" in t)
    assert told.startswith(
        f":white_check_mark: Crisis for *Initech* declared in <#{channel.id}>."
        " <@U0CHEN> owns it and has been told; Initech has been promised an update by"
    )


def test_later_promises_keep_the_contracted_cadence(
    bot: Bot, emulator: Emulator, known: dict[str, int]
) -> None:
    bot.command("new Initech: dashboards empty sev1")
    (crisis,) = crises_stored(bot)
    channel = crisis.channel_id or ""
    bot.clock.advance(minutes=5)
    bot.command("update Looking into it", user="U0CHEN", channel=channel)
    (crisis,) = crises_stored(bot)
    assert crisis.next_update_due_at == T0 + timedelta(minutes=5 + 15)
    # sev2 is contracted at 45 minutes (the default is an hour).
    bot.command("severity sev2", user="U0CHEN", channel=channel)
    bot.clock.advance(minutes=5)
    bot.command("update Still on it", user="U0CHEN", channel=channel)
    (crisis,) = crises_stored(bot)
    assert crisis.cadence_seconds == 45 * 60
    assert crisis.next_update_due_at == T0 + timedelta(minutes=10 + 45)


def test_an_account_without_a_csm_is_owned_by_the_declarer(
    bot: Bot, emulator: Emulator, known: dict[str, int]
) -> None:
    bot.command("new acme: invoices doubled sev1", user="U0BEN")
    (crisis,) = crises_stored(bot)
    assert (crisis.account_id, crisis.customer, crisis.owner_id) == (
        known["Acme Corp"],
        "Acme Corp",
        "U0BEN",
    )
    # Nothing contracted: the severity's default (30 minutes for sev1 here).
    assert crisis.next_update_due_at == T0 + timedelta(minutes=30)
    card = emulator.messages(crisis.channel_id or "")[0]
    # No tier: only the customer's time (15:00 in Berlin).
    assert "customer's time 15:00 CET" in contexts(card.blocks or [])
    assert emulator.dm_messages("U0BEN") == []


def test_a_second_crisis_for_the_account_is_caught_by_another_of_its_names(
    bot: Bot, emulator: Emulator, known: dict[str, int]
) -> None:
    bot.command("new Initech: dashboards empty")
    answer = bot.command("new INITÉCH GLOBAL: invoices doubled")
    (first,) = crises_stored(bot)
    assert answer.text.startswith(
        f":information_source: *Initech* already has an open crisis: <#{first.channel_id}>"
    )
    assert "crisis_declare_anyway" in buttons(answer.json()["blocks"])


def did_you_mean(bot: Bot) -> tuple[Answer, dict[str, dict[str, Any]]]:
    answer = bot.command("new Acme Crop: invoices doubled sev1")
    return answer, buttons(answer.json()["blocks"])


def test_a_name_close_to_an_accounts_asks_and_declares_nothing(
    bot: Bot, emulator: Emulator, known: dict[str, int]
) -> None:
    answer, choices = did_you_mean(bot)
    assert answer.text == (
        ":mag: No account is called *Acme Crop*. Did you mean *Acme Corp*? Nothing is declared"
        " until you choose."
    )
    assert choices["crisis_declare_for_account"]["text"]["text"] == "Acme Corp"
    assert choices["crisis_declare_new_customer"]["text"]["text"] == "New customer: Acme Crop"
    assert crises_stored(bot) == []
    assert emulator.calls_to("conversations.create") == []
    with bot.deps.session_factory() as session:
        (held,) = session.scalars(select(PendingDeclaration))
        assert (held.declared_by, held.request["customer"]) == ("U0ANA", "Acme Crop")


def test_the_account_button_declares_for_it_once(
    bot: Bot, emulator: Emulator, known: dict[str, int]
) -> None:
    _, choices = did_you_mean(bot)
    account = choices["crisis_declare_for_account"]["value"]
    new = choices["crisis_declare_new_customer"]["value"]
    bot.click("crisis_declare_for_account", account, channel="C0GENERAL")
    bot.click("crisis_declare_for_account", account, channel="C0GENERAL")
    bot.click("crisis_declare_new_customer", new, channel="C0GENERAL")
    (crisis,) = crises_stored(bot)
    assert (crisis.account_id, crisis.customer, crisis.severity) == (
        known["Acme Corp"],
        "Acme Corp",
        "sev1",
    )
    assert crisis.experienced == "invoices doubled"
    assert len(emulator.calls_to("conversations.create")) == 1
    told = [p.text for p in emulator.response_posts if p.user == "U0ANA"]
    assert any(f"declared in <#{crisis.channel_id}>" in text for text in told)
    assert (
        told[-2:]
        == [
            f":information_source: The crisis for *Acme Corp* is already declared in"
            f" <#{crisis.channel_id}>."
        ]
        * 2
    )


def test_the_new_customer_button_declares_it_ad_hoc_once(
    bot: Bot, emulator: Emulator, known: dict[str, int]
) -> None:
    _, choices = did_you_mean(bot)
    new = choices["crisis_declare_new_customer"]["value"]
    bot.click("crisis_declare_new_customer", new, channel="C0GENERAL")
    bot.click("crisis_declare_new_customer", new, channel="C0GENERAL")
    (crisis,) = crises_stored(bot)
    assert (crisis.account_id, crisis.customer, crisis.owner_id) == (None, "Acme Crop", "U0ANA")
    assert emulator.channel_by_name("crisis-20261122-acme-crop") is not None
    assert len(emulator.calls_to("conversations.create")) == 1


def test_only_the_declarer_answers_did_you_mean(
    bot: Bot, emulator: Emulator, known: dict[str, int]
) -> None:
    _, choices = did_you_mean(bot)
    bot.click(
        "crisis_declare_for_account",
        choices["crisis_declare_for_account"]["value"],
        user="U0BEN",
        channel="C0GENERAL",
    )
    assert crises_stored(bot) == []
    assert [p.text for p in emulator.response_posts if p.user == "U0BEN"] == [
        ":warning: I can't find that declaration any more. Declare it again with `/crisis new`."
    ]


def test_choosing_an_account_with_an_open_crisis_asks_again_and_declares_once(
    bot: Bot, emulator: Emulator, known: dict[str, int]
) -> None:
    bot.command("new Acme Corp: dashboards empty")
    _, choices = did_you_mean(bot)
    account = choices["crisis_declare_for_account"]["value"]
    bot.click("crisis_declare_for_account", account, channel="C0GENERAL")
    question = emulator.response_posts[-1]
    assert "*Acme Corp* already has an open crisis" in question.text
    anyway = buttons(question.blocks or [])["crisis_declare_anyway"]["value"]
    # The same held declaration: whichever answer comes next declares it once.
    assert anyway == account.split(":")[0]
    bot.click("crisis_declare_anyway", anyway, channel="C0GENERAL")
    bot.click("crisis_declare_anyway", anyway, channel="C0GENERAL")
    bot.click("crisis_declare_for_account", account, channel="C0GENERAL")
    first, second = crises_stored(bot)
    assert (second.account_id, second.customer) == (known["Acme Corp"], "Acme Corp")
    assert second.channel_id != first.channel_id
    assert len([c for c in emulator.calls_to("conversations.create") if c.ok]) == 2


def test_a_clearly_new_name_declares_at_once_for_no_account(
    bot: Bot, emulator: Emulator, known: dict[str, int]
) -> None:
    answer = bot.command("new Hooli: search is slow sev1")
    assert answer.text.startswith(":rotating_light: Declaring a crisis for *Hooli*")
    (crisis,) = crises_stored(bot)
    assert (crisis.account_id, crisis.customer, crisis.owner_id, crisis.responders) == (
        None,
        "Hooli",
        "U0ANA",
        [],
    )
    assert crisis.next_update_due_at == T0 + timedelta(minutes=30)
    card = emulator.messages(crisis.channel_id or "")[0]
    assert not any("customer's time" in text for text in contexts(card.blocks or []))


# The declare form: the customer is a type-ahead over the accounts.


def declare_form(bot: Bot, emulator: Emulator) -> tuple[str, dict[str, Any]]:
    bot.command("new", channel="C0CRISES")
    opened = emulator.open_views("U0ANA")[-1]
    return opened.id, opened.view


def option_pairs(answer: Answer) -> list[tuple[str, str]]:
    return [(o["text"]["text"], o["value"]) for o in answer.json()["options"]]


def test_the_type_ahead_offers_the_accounts_and_the_name_typed(
    bot: Bot, emulator: Emulator, known: dict[str, int]
) -> None:
    view_id, view = declare_form(bot, emulator)
    element = next(b for b in view["blocks"] if b.get("block_id") == "customer")["element"]
    assert (element["type"], element["action_id"], element["min_query_length"]) == (
        "external_select",
        "customer_search",
        0,
    )
    initech, acme = known["Initech"], known["Acme Corp"]
    # Opening the menu: every account, by name.
    assert option_pairs(bot.suggest(view_id, "")) == [
        ("Acme Corp", f"account:{acme}"),
        ("Initech", f"account:{initech}"),
    ]
    # By an alias, accents and case ignored; the text typed is offered as a new customer.
    assert option_pairs(bot.suggest(view_id, "INITÉ")) == [
        ("Initech", f"account:{initech}"),
        ("New customer: INITÉ", "new:INITÉ"),
    ]
    # Exactly an account's name (or alias) is no new customer.
    assert option_pairs(bot.suggest(view_id, "initech global")) == [
        ("Initech", f"account:{initech}")
    ]
    assert option_pairs(bot.suggest(view_id, "Hooli")) == [("New customer: Hooli", "new:Hooli")]
    # One quick query: no Slack call to answer.
    assert [c.method for c in emulator.calls if c.method != "users.info"][-1] == "views.open"


FORM: dict[str, Any] = {
    "experienced": {"type": "plain_text_input", "value": "Invoices doubled"},
    "expected": {"type": "plain_text_input", "value": None},
    "kind": {"type": "static_select", "selected_option": None},
    "severity": {"type": "static_select", "selected_option": {"value": "sev1"}},
    "owner": {"type": "users_select", "selected_user": None},
    "responders": {"type": "multi_users_select", "selected_users": ["U0ANA"]},
}


def picked(text: str, value: str) -> dict[str, Any]:
    return {
        "type": "external_select",
        "selected_option": {"text": {"type": "plain_text", "text": text}, "value": value},
    }


def test_the_form_declares_for_the_account_picked(
    bot: Bot, emulator: Emulator, known: dict[str, int]
) -> None:
    _, view = declare_form(bot, emulator)
    customer = picked("Initech", f"account:{known['Initech']}")
    assert bot.submit(view, {**FORM, "customer": customer}).body == ""
    (crisis,) = crises_stored(bot)
    assert (crisis.account_id, crisis.customer, crisis.owner_id) == (
        known["Initech"],
        "Initech",
        "U0CHEN",
    )
    # The account's team, and whom the declarer named too.
    assert crisis.responders == ["U0BEN", "U0DANA", "U0ANA"]
    assert crisis.next_update_due_at == T0 + timedelta(minutes=15)
    assert emulator.dm_messages("U0CHEN")
    told = emulator.ephemerals("U0ANA", "C0CRISES")[-1].text
    assert "<@U0CHEN> owns it and has been told" in told


def test_the_form_keeps_the_owner_the_declarer_named(
    bot: Bot, emulator: Emulator, known: dict[str, int]
) -> None:
    _, view = declare_form(bot, emulator)
    customer = picked("Initech", f"account:{known['Initech']}")
    owner = {"type": "users_select", "selected_user": "U0BEN"}
    bot.submit(view, {**FORM, "customer": customer, "owner": owner})
    (crisis,) = crises_stored(bot)
    assert (crisis.owner_id, crisis.responders) == ("U0BEN", ["U0DANA", "U0ANA"])


def test_the_form_declares_a_new_customer_by_the_name_typed(
    bot: Bot, emulator: Emulator, known: dict[str, int]
) -> None:
    _, view = declare_form(bot, emulator)
    customer = picked("New customer: Acme Crop", "new:Acme Crop")
    assert bot.submit(view, {**FORM, "customer": customer}).body == ""
    (crisis,) = crises_stored(bot)
    # Picked as a new customer: no "did you mean?", no account.
    assert (crisis.account_id, crisis.customer, crisis.owner_id) == (None, "Acme Crop", "U0ANA")


def test_an_account_removed_since_it_was_offered_is_said_on_the_form(
    bot: Bot, emulator: Emulator, known: dict[str, int]
) -> None:
    _, view = declare_form(bot, emulator)
    answer = bot.submit(view, {**FORM, "customer": picked("Gone Inc", "account:999999")})
    assert answer.json() == {
        "response_action": "errors",
        "errors": {
            "customer": ":warning: I can't find that account any more (it was removed)."
            " Declare it again with `/crisis new`."
        },
    }
    assert crises_stored(bot) == []
