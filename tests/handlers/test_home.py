"""The App Home tab, a dashboard: your open crises with a countdown to the next promise
(overdue first), your figures and the team's for 30 days, everyone's crises; other
organisations get nothing."""

import json

from bot.db.models import Crisis
from sandbox import Emulator
from tests.conftest import Clock
from tests.harness import Bot


def open_home(bot: Bot, user: str) -> None:
    bot.event({"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home"})


def texts(view: dict) -> list[str]:
    """Every block's text, in order: sections (and their fields) and contexts."""
    found: list[str] = []
    for block in view["blocks"]:
        if block["type"] == "section":
            found += [block["text"]["text"]] if "text" in block else []
            found += [f["text"] for f in block.get("fields", [])]
        elif block["type"] == "context":
            found += [e["text"] for e in block["elements"]]
    return found


def channel_of(bot: Bot, customer: str) -> str:
    with bot.deps.session_factory() as session:
        channel = session.query(Crisis).filter_by(customer=customer).one().channel_id
    assert channel
    return channel


def test_home_shows_yours_first_and_escapes_names(bot: Bot, emulator: Emulator) -> None:
    bot.command("new &lt;!here&gt; Initech: exports fail sev3", user="U0BEN")
    bot.command("new Acme Corp: dashboards empty sev1", user="U0ANA")
    open_home(bot, "U0ANA")
    home = emulator.home_view("U0ANA")
    assert home is not None
    sections = [b["text"]["text"] for b in home.view["blocks"] if "text" in b]
    assert sections.index("*Your open crises (1)*, overdue first") < sections.index("*Everyone's*")
    assert "*Acme Corp*" in sections[sections.index("*Your open crises (1)*, overdue first") + 1]
    assert "*&lt;!here&gt; Initech*" in sections[sections.index("*Everyone's*") + 1]
    assert "<!here>" not in json.dumps(home.view)


def test_the_dashboard_counts_down_to_your_promises_and_shows_30_days_of_figures(
    bot: Bot, emulator: Emulator, clock: Clock
) -> None:
    bot.command("new Acme Corp: dashboards empty sev1", user="U0ANA")  # promised in 30 min
    bot.command("new Initech: exports fail sev3", user="U0BEN")
    bot.command("new Globex: invoices wrong sev2", user="U0ANA")  # promised in 1 h
    clock.advance(minutes=2)
    bot.command("ack", user="U0BEN", channel=channel_of(bot, "Acme Corp"))
    clock.advance(minutes=38)
    # Globex's promise kept on time; the next is due in an hour. Acme's is overdue.
    bot.command("update Invoices re-issued", user="U0ANA", channel=channel_of(bot, "Globex"))
    clock.advance(minutes=5)
    open_home(bot, "U0ANA")
    home = emulator.home_view("U0ANA")
    assert home is not None
    shown = texts(home.view)
    yours = shown.index("*Your open crises (2)*, overdue first")
    assert "*Acme Corp*" in shown[yours + 1]
    assert shown[yours + 2] == ":rotating_light: *Overdue by 15 min*: post an update"
    assert "*Globex*" in shown[yours + 3]
    assert shown[yours + 4] == ":stopwatch: Next promise due in *55 min*"
    figures = shown.index("*The last 30 days*")
    assert shown[figures + 1] == (
        "*You (as owner)*\nPromises kept on time: 100% of 1\nKept late: 0 · broken: 0"
        "\nCrises: 2 declared, 0 closed\nFirst acknowledgement: median 2 min"
        "\nResolved in: median —"
    )
    assert shown[figures + 2].startswith(
        "*The team*\nPromises kept on time: 100% of 1\nKept late: 0 · broken: 0"
        "\nCrises: 3 declared, 0 closed"
    )
    everyone = shown.index("*Everyone's*")
    assert "*Initech*" in shown[everyone + 1] and len(shown) == everyone + 2
    # *Declare a crisis* keeps its action_id.
    buttons = [e for b in home.view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [(b["action_id"], b["text"]["text"]) for b in buttons] == [
        ("home_declare", "Declare a crisis")
    ]

    # Ben owns nothing yet: his column is empty, the team's is the same.
    open_home(bot, "U0BEN")
    ben = emulator.home_view("U0BEN")
    assert ben is not None
    shown = texts(ben.view)
    assert "*Your open crises (1)*, overdue first" in shown
    figures = shown.index("*The last 30 days*")
    assert shown[figures + 1].startswith(
        "*You (as owner)*\nPromises kept on time: no promise ended\nKept late: 0 · broken: 0"
        "\nCrises: 1 declared"
    )


def test_nobody_from_another_organisation_sees_the_list(bot: Bot, emulator: Emulator) -> None:
    bot.command("new Acme Corp: dashboards empty sev1")
    open_home(bot, "U0CORA")
    assert emulator.home_view("U0CORA") is None
    assert emulator.calls_to("views.publish") == []
