"""``/crisis account``, ``/crisis accounts`` and the account form, through the real app and the
emulator, with the sandbox's accounts (Globex Corp, Initech, Migdal Data)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.db.models import Account
from bot.services import accounts
from crisisbot.sandbox import seed_accounts
from sandbox import Emulator
from tests.conftest import make_settings
from tests.harness import Bot

BOTH_DATABASES = 1


@pytest.fixture
def settings() -> Settings:
    # Dana is an admin through the cs-leads user group.
    return make_settings(admins="S0CSLEADS")


@pytest.fixture
def seeded(bot: Bot) -> Bot:
    seed_accounts(bot.deps)
    return bot


def last_reply(emulator: Emulator, user: str = "U0ANA") -> dict[str, Any]:
    post = [p for p in emulator.response_posts if p.user == user][-1]
    return {"text": post.text, "blocks": post.blocks or []}


def shown(reply: dict[str, Any]) -> str:
    """Every text a person reads in a reply, joined."""
    found = [reply["text"]]

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text"):
                found.append(str(node.get("text", "")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(reply["blocks"])
    return "\n".join(found)


def told(emulator: Emulator, user: str) -> list[str]:
    """What ``user`` was told privately after a form: ephemerals and DMs."""
    return [e.text for e in emulator.ephemerals(user)] + [
        m.text for m in emulator.dm_messages(user)
    ]


def row(bot: Bot, name: str) -> Account | None:
    with bot.deps.session_factory() as session:
        return accounts.find(session, name)


# Showing one account


def test_account_shows_the_team_their_time_cadences_and_crises(
    seeded: Bot, emulator: Emulator
) -> None:
    bot = seeded
    bot.command("new Initech: exports fail sev3")
    old = next(c for c in emulator.workspace.channels.values() if c.name.startswith("crisis"))
    bot.clock.advance(hours=2, minutes=30)
    bot.command("close Fixed the export queue", channel=old.id)
    bot.command("new Initech Global: logins fail sev1")  # an alias: the same account
    new = next(
        c for c in emulator.workspace.channels.values() if c.id != old.id and "crisis" in c.name
    )

    answer = bot.command("account initech")  # any case
    assert answer.status == 200
    reply = last_reply(emulator)
    text = shown(reply)
    assert reply["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Initech", "emoji": True},
    }
    assert "Also known as Initech Global · Tier: strategic" in text
    assert "*CSM*\n<@U0ANA>" in text
    assert "*Account team*\n<@U0CHEN>, <@U0BEN>" in text
    # 16:30 UTC on Sunday 22 November is 11:30 in New York: a weekend.
    assert (
        "*Their time*\nSun 11:30 in America/New_York, outside business hours"
        " (Mon-Fri 08:00-18:00); they open Mon 08:00" in text
    )
    assert "*Language*\nEnglish (en)" in text
    assert "*Update cadences*\nSEV1 every 15m\nSEV2 every 45m\nSEV3 every 4h (default)" in text
    # The open crisis, with its channel and next update due; the closed one with its time.
    assert f"<#{new.id}> · owner <@U0ANA>" in text
    assert "*Open crises (1)*" in text
    assert "*Last 1 closed*" in text
    assert f"<#{old.id}> · SEV3 · declared <!date^" in text
    assert "resolved in 2h 30m" in text


def test_the_customers_local_time_follows_the_clock(seeded: Bot, emulator: Emulator) -> None:
    bot = seeded
    # 14:00 UTC on a Sunday is 16:00 in Jerusalem, where the week starts on Sunday.
    bot.command("account Migdal Data")
    text = shown(last_reply(emulator))
    assert "*Their time*\nSun 16:00 in Asia/Jerusalem, within business hours" in text
    assert "(Sun-Thu 08:30-17:30)" in text
    assert "*Language*\nHebrew (he)" in text
    assert "*Customer channel*\nnone" in text
    assert "*Open crises*\n:sunny: None." in text

    bot.clock.advance(hours=2)
    bot.command("account מגדל נתונים")
    text = shown(last_reply(emulator))
    assert (
        "Sun 18:00 in Asia/Jerusalem, outside business hours (Sun-Thu 08:30-17:30);"
        " they open Mon 08:30" in text
    )

    bot.command("account globex")
    assert "*Customer channel*\n<#C0SHARED>" in shown(last_reply(emulator))


def test_an_unknown_name_gets_the_near_miss_or_how_to_find_one(
    bot: Bot, emulator: Emulator
) -> None:
    bot.command("account Globex")
    assert "There are no accounts yet" in last_reply(emulator)["text"]

    seed_accounts(bot.deps)
    bot.command("account Globx Corp")
    assert last_reply(emulator)["text"] == (
        ":warning: No account *Globx Corp*. Did you mean *Globex Corp*?"
        " `/crisis account Globex Corp` shows it."
    )
    bot.command("account Hooli")
    text = last_reply(emulator)["text"]
    assert text.startswith(":warning: No account *Hooli*. `/crisis accounts` lists them")
    assert "`/crisis account add`" in text


def test_account_without_a_name_says_how(bot: Bot) -> None:
    answer = bot.command("account")
    assert answer.text == (
        ":warning: Name the account.\nUsage: `/crisis account <name>`,"
        " `/crisis account edit <name>` or `/crisis account add`"
    )
    assert "Say which account to edit." in bot.command("account edit").text


# The list


def test_accounts_lists_name_tier_csm_and_open_crises(seeded: Bot, emulator: Emulator) -> None:
    bot = seeded
    bot.command("new Globex: invoices doubled")
    bot.command("accounts", user="U0BEN")
    reply = last_reply(emulator, "U0BEN")
    assert reply["text"] == "*3 accounts*"
    assert reply["blocks"][1]["text"]["text"].splitlines() == [
        "*Globex Corp* · enterprise · CSM <@U0CHEN> · :rotating_light: 1 open crisis",
        "*Initech* · strategic · CSM <@U0ANA> · no open crisis",
        "*מגדל נתונים* · growth · CSM <@U0DANA> · no open crisis",
    ]
    bot.command("accounts migdal", user="U0BEN")
    reply = last_reply(emulator, "U0BEN")
    assert reply["text"] == "*1 account* matching *migdal*"
    bot.command("accounts hooli", user="U0BEN")
    assert "No account name or alias contains *hooli*" in shown(last_reply(emulator, "U0BEN"))


def test_a_long_list_stays_within_block_kit_and_says_how_to_narrow_it(
    bot: Bot, emulator: Emulator
) -> None:
    records = [accounts.AccountRecord(name=f"Customer {n:03}", tier="growth") for n in range(130)]
    with bot.deps.session_factory() as session:
        accounts.upsert(session=session, records=records, now=bot.clock())
    bot.command("accounts")
    reply = last_reply(emulator)
    assert reply["text"] == "*130 accounts*"
    assert len(reply["blocks"]) <= 50
    assert "*Customer 099*" in shown(reply) and "*Customer 100*" not in shown(reply)
    assert reply["blocks"][-1]["elements"][0]["text"] == (
        "…and 30 more. Narrow the list with `/crisis accounts <part of a name>`, or see one"
        " with `/crisis account <name>`."
    )


# The form: who may open it


def opened(emulator: Emulator, user: str) -> dict[str, Any] | None:
    views = emulator.open_views(user)
    return views[-1].view if views else None


def initial(view: dict[str, Any]) -> dict[str, Any]:
    """Each input's starting value."""
    out: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        for key in ("initial_value", "initial_user", "initial_users"):
            if key in element:
                out[block["block_id"]] = element[key]
        if "initial_option" in element:
            out[block["block_id"]] = element["initial_option"]["value"]
    return out


def test_the_csm_and_an_admin_open_the_edit_form_others_are_told_who_can(
    seeded: Bot, emulator: Emulator
) -> None:
    bot = seeded
    bot.command("account edit Initech", user="U0ANA")  # its CSM
    view = opened(emulator, "U0ANA")
    assert view is not None and view["callback_id"] == "account_form"
    assert initial(view) == {
        "name": "Initech",
        "aliases": "Initech Global",
        "tier": "strategic",
        "csm": "U0ANA",
        "team": ["U0CHEN", "U0BEN"],
        "timezone": "America/New_York",
        "business_hours": "Mon-Fri 08:00-18:00",
        "language": "en",
        "cadence_sev1": "15m",
        "cadence_sev2": "45m",
    }
    bot.command("account edit initech global", user="U0DANA")  # an admin, by an alias
    assert opened(emulator, "U0DANA") is not None

    bot.command("account edit Initech", user="U0BEN")  # on the team, but not its CSM
    assert opened(emulator, "U0BEN") is None
    assert last_reply(emulator, "U0BEN")["text"] == (
        ":lock: Only its CSM (<@U0ANA>) and crisisbot admins (<!subteam^S0CSLEADS>) can edit"
        " *Initech*. Ask <@U0ANA>."
    )
    bot.command("account add Hooli", user="U0ANA")  # a CSM, but adding is for admins
    assert len(emulator.open_views("U0ANA")) == 1
    assert last_reply(emulator)["text"] == (
        ":lock: Only crisisbot admins (<!subteam^S0CSLEADS>) can add accounts. Ask one of them."
    )
    bot.command("account edit Initek", user="U0ANA")
    assert "No account *Initek*" in last_reply(emulator)["text"]


# The form: submitting


def form(**values: Any) -> dict[str, Any]:
    """Form state as Slack sends it: text inputs, selects and user pickers."""
    state: dict[str, Any] = {}
    for block, value in values.items():
        if block == "csm":
            state[block] = {"type": "users_select", "selected_user": value}
        elif block == "team":
            state[block] = {"type": "multi_users_select", "selected_users": value}
        elif block == "language":
            state[block] = {"type": "static_select", "selected_option": {"value": value}}
        else:
            state[block] = {"type": "plain_text_input", "value": value}
    return state


def test_every_invalid_field_is_reported_at_once_and_nothing_changes(
    seeded: Bot, emulator: Emulator
) -> None:
    bot = seeded
    before = row(bot, "Initech")
    assert before is not None
    bot.command("account edit Initech", user="U0ANA")
    view = opened(emulator, "U0ANA")
    assert view is not None
    answer = bot.submit(
        view,
        form(
            name="  ",
            aliases="Initech Global;!!!",
            tier="t" * 61,
            csm="U0CORA",
            team=["U0BEN", "U0GUS"],
            timezone="Mars/Olympus",
            business_hours="weekdays",
            language="fr",
            customer_channel="general",
            cadence_sev1="often",
            cadence_sev2="10s",
            cadence_sev3="0",
            cadence_sev4="1w",
        ),
        user="U0ANA",
    )
    assert answer.status == 200
    body = answer.json()
    assert body["response_action"] == "errors"
    errors = body["errors"]
    assert sorted(errors) == sorted(accounts.COLUMNS)
    assert errors["name"] == "missing: every account needs a name, such as Acme Corp"
    assert errors["aliases"].startswith("'!!!' is not a usable name")
    assert errors["tier"] == "61 characters: at most 60"
    assert errors["csm"] == (
        "Cora Customer is from Globex Corp: only your team can be an account's CSM."
    )
    assert errors["team"].endswith("is a guest: only your team can be on an account's team.")
    assert errors["timezone"].startswith("'Mars/Olympus' is not a time zone")
    assert errors["business_hours"].startswith("'weekdays' is not working hours")
    assert errors["language"].startswith("'fr' is not a language we write in")
    assert errors["customer_channel"].startswith("'general' is not a channel id")
    assert errors["cadence_sev1"].startswith("'often' is not a duration")
    assert errors["cadence_sev2"] == "'10s' is under a minute: updates that often are noise"
    assert errors["cadence_sev3"].startswith("'0' is not a duration")
    assert errors["cadence_sev4"].startswith("'1w' is not a duration")
    after = row(bot, "Initech")
    assert after is not None and after.updated_at == before.updated_at
    assert after.timezone == "America/New_York"


def test_a_valid_edit_changes_the_row_and_says_so(seeded: Bot, emulator: Emulator) -> None:
    bot = seeded
    bot.command("account edit Initech", user="U0ANA")
    view = opened(emulator, "U0ANA")
    assert view is not None
    bot.clock.advance(minutes=5)
    answer = bot.submit(
        view,
        form(
            name="Initech Corp",
            aliases="Initech; Initech Global",
            tier="enterprise",
            csm="U0BEN",
            team=["U0CHEN", "U0DANA"],
            timezone="Europe/London",
            business_hours="mon-thu 09:00-17:00",
            language="he",
            customer_channel="#C0SHARED",
            cadence_sev1="10m",
            cadence_sev2=None,
            cadence_sev3="1h30m",
            cadence_sev4=None,
        ),
        user="U0ANA",
    )
    assert answer.status == 200 and answer.body == ""
    with bot.deps.session_factory() as session:
        found = session.scalars(select(Account).where(Account.name == "Initech Corp")).all()
        assert len(found) == 1
        account = found[0]
        assert (
            account.name_key,
            account.aliases,
            account.tier,
            account.csm_id,
            account.team,
            account.timezone,
            account.business_hours,
            account.language,
            account.customer_channel,
            account.cadence_sev1,
            account.cadence_sev2,
            account.cadence_sev3,
            account.cadence_sev4,
            account.updated_at,
        ) == (
            "initech corp",
            ["Initech", "Initech Global"],
            "enterprise",
            "U0BEN",
            ["U0CHEN", "U0DANA"],
            "Europe/London",
            "Mon-Thu 09:00-17:00",
            "he",
            "C0SHARED",
            600,
            None,
            5400,
            None,
            bot.clock(),
        )
        # Renamed, not copied: still three accounts.
        assert len(accounts.all_accounts(session)) == 3
    assert told(emulator, "U0ANA")[-1] == (
        ":white_check_mark: Saved the account *Initech Corp*."
        " `/crisis account Initech Corp` shows it."
    )
    # The old name is an alias now, and the new CSM may edit it.
    bot.command("account edit initech", user="U0BEN")
    assert opened(emulator, "U0BEN") is not None


def test_an_admin_adds_an_account_and_a_taken_name_is_refused(
    seeded: Bot, emulator: Emulator
) -> None:
    bot = seeded
    bot.command("account add Hooli", user="U0DANA")
    view = opened(emulator, "U0DANA")
    assert view is not None
    assert view["title"]["text"] == "Add an account"
    assert initial(view) == {
        "name": "Hooli",
        "timezone": "UTC",
        "business_hours": "Mon-Fri 09:00-17:00",
        "language": "en",
    }
    taken = bot.submit(view, form(name="Globex", timezone="UTC"), user="U0DANA")
    assert taken.json() == {
        "response_action": "errors",
        "errors": {
            "name": "'Globex' already names the account Globex Corp: each name and alias"
            " belongs to one account"
        },
    }
    answer = bot.submit(
        view,
        form(
            name="Hooli",
            aliases=None,
            tier=None,
            csm="U0ANA",
            team=[],
            timezone="America/Los_Angeles",
            business_hours="Mon-Fri 09:00-17:00",
            language="en",
            customer_channel=None,
            cadence_sev1="20m",
        ),
        user="U0DANA",
    )
    assert answer.status == 200 and answer.body == ""
    hooli = row(bot, "hooli")
    assert hooli is not None
    assert (hooli.csm_id, hooli.team, hooli.timezone, hooli.cadence_sev1) == (
        "U0ANA",
        [],
        "America/Los_Angeles",
        1200,
    )
    assert told(emulator, "U0DANA")[-1].startswith(":white_check_mark: Added the account *Hooli*.")


def test_a_submission_from_someone_no_longer_allowed_saves_nothing(
    seeded: Bot, emulator: Emulator
) -> None:
    bot = seeded
    bot.command("account edit Globex", user="U0CHEN")  # its CSM
    view = opened(emulator, "U0CHEN")
    assert view is not None
    # Meanwhile the CSM changes (an import, say); Chen's open form may not save any more.
    with bot.deps.session_factory() as session:
        globex = accounts.find(session, "Globex")
        assert globex is not None
        globex.csm_id = "U0BEN"
        session.commit()
    answer = bot.submit(view, form(name="Globex Corp", timezone="UTC", csm="U0CHEN"), user="U0CHEN")
    assert answer.status == 200 and answer.body == ""
    assert told(emulator, "U0CHEN")[-1].startswith(":lock: Only its CSM (<@U0BEN>)")
    globex_now = row(bot, "Globex")
    assert globex_now is not None and globex_now.csm_id == "U0BEN"
    assert globex_now.timezone == "Europe/Berlin"


# Finding the commands


def test_help_and_typos_know_the_account_commands(bot: Bot) -> None:
    help_text = bot.command("help").text
    assert "`/crisis account <name>`: the account" in help_text
    assert "`/crisis accounts`, or `/crisis accounts <part of a name>`" in help_text
    assert "An account's CSM and crisisbot admins can edit it" in help_text
    assert "Did you mean `/crisis account`?" in bot.command("acount Initech").text
    assert "Did you mean `/crisis accounts`?" in bot.command("acounts").text


def test_the_form_fits_slacks_limits(seeded: Bot, emulator: Emulator) -> None:
    seeded.command("account edit Migdal", user="U0DANA")
    view = opened(emulator, "U0DANA")
    assert view is not None  # the emulator validates views.open as Slack does
    labels = [b["label"]["text"] for b in view["blocks"] if b["type"] == "input"]
    assert labels == [
        "Name",
        "Other names",
        "Tier",
        "CSM",
        "Account team",
        "Time zone",
        "Business hours",
        "Language",
        "Customer channel id",
        "SEV1 update cadence",
        "SEV2 update cadence",
        "SEV3 update cadence",
        "SEV4 update cadence",
    ]
    assert json.loads(view["private_metadata"])["account_id"] is not None
