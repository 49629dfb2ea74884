"""The App Home tab lists your crises first; other organisations get nothing."""

import json

from sandbox import Emulator
from tests.harness import Bot


def open_home(bot: Bot, user: str) -> None:
    bot.event({"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home"})


def test_home_shows_yours_first_and_escapes_names(bot: Bot, emulator: Emulator) -> None:
    bot.command("new &lt;!here&gt; Initech: exports fail sev3", user="U0BEN")
    bot.command("new Acme Corp: dashboards empty sev1", user="U0ANA")
    open_home(bot, "U0ANA")
    home = emulator.home_view("U0ANA")
    assert home is not None
    sections = [b["text"]["text"] for b in home.view["blocks"] if b["type"] == "section"]
    assert sections[0] == "*Yours*" and "*Acme Corp*" in sections[1]
    assert sections[2] == "*Everyone's*" and "*&lt;!here&gt; Initech*" in sections[3]
    assert "<!here>" not in json.dumps(home.view)


def test_nobody_from_another_organisation_sees_the_list(bot: Bot, emulator: Emulator) -> None:
    bot.command("new Acme Corp: dashboards empty sev1")
    open_home(bot, "U0CORA")
    assert emulator.home_view("U0CORA") is None
    assert emulator.calls_to("views.publish") == []
