"""The page's HTTP API: static files, state per user, people's actions and live updates."""

from __future__ import annotations

import json
import re
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient

from sandbox import Emulator
from sandbox.inbound import Inbound
from sandbox.page import STATIC, PageApp
from tests.sandbox.conftest import SECRET, FakeApp


@pytest.fixture
def page(emu: Emulator, app: FakeApp) -> Iterator[PageApp]:
    inbound = Inbound(emu, app.url, SECRET, ack_timeout=0.5, retry_delays=(0.0,)).attach()
    page = PageApp(emu, inbound)
    emu.page = page
    yield page
    page.close()
    emu.page = None
    inbound.close()


def get(emu: Emulator, path: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(emu.url + path) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def post(emu: Emulator, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        emu.url + path, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def state(emu: Emulator, user: str, channel: str = "") -> dict[str, Any]:
    status, _, body = get(emu, f"/sandbox/state?user={user}&channel={channel}")
    assert status == 200
    return dict(json.loads(body))


def test_the_page_and_its_assets_are_served_locally(emu: Emulator, page: PageApp) -> None:
    status, ctype, html = get(emu, "/")
    assert status == 200 and ctype.startswith("text/html")
    assert "/static/main.js" in html and "/static/style.css" in html
    assets = [f"/static/{p.name}" for p in STATIC.iterdir()]
    for asset in ("/static/main.js", "/static/style.css", "/", "/static/index.html", *assets):
        body = get(emu, asset)[2]
        # Nothing may be fetched from the internet: no CDN, no web fonts.
        assert "https://" not in body and "http://" not in body
    assert get(emu, "/static/../run.py")[0] == 404
    assert get(emu, "/static/nope.js")[0] == 404


def test_the_page_script_is_es_modules_served_as_javascript(emu: Emulator, page: PageApp) -> None:
    html = get(emu, "/")[2]
    # One module entry point, no build step; browsers refuse a module not served as JavaScript.
    assert re.findall(r"<script[^>]*>", html) == ['<script type="module" src="/static/main.js">']
    seen: set[str] = set()
    todo = ["main.js"]
    while todo:
        name = todo.pop()
        status, ctype, body = get(emu, f"/static/{name}")
        assert status == 200 and ctype.split(";")[0] == "text/javascript", name
        seen.add(name)
        imported = re.findall(r'^import .* from "\./([\w-]+\.js)";$', body, re.M)
        todo += [n for n in imported if n not in seen]
    assert {"mrkdwn.js", "blockkit.js", "api.js", "ui.js"} <= seen
    # Every script in static/ is part of the page, and packaged: `static/*` has no subfolders.
    assert seen == {p.name for p in STATIC.glob("*.js")}
    assert all(p.is_file() for p in STATIC.iterdir())


def test_without_a_page_only_the_api_answers(emu: Emulator) -> None:
    assert get(emu, "/")[0] == 404


def test_state_is_what_one_person_sees(emu: Emulator, page: PageApp) -> None:
    seen = state(emu, "U0CORA")
    assert seen["me"] == "U0CORA"
    assert [c["name"] for c in seen["channels"]] == ["globex-acme"]
    cora = next(u for u in seen["users"] if u["id"] == "U0CORA")
    assert cora["external"] and cora["team_name"] == "Globex Corp"
    assert cora["tz"] == "Europe/Berlin"
    ana = state(emu, "U0ANA")
    assert ana["channel"]["id"] == "C0CRISES"  # first visit opens #cs-crises
    assert {"cs-crises", "cs-escalations", "general"} <= {c["name"] for c in ana["channels"]}
    # A channel you are not in is not shown.
    assert state(emu, "U0CHEN", "C0ESCAL")["channel"]["id"] != "C0ESCAL"


def test_ephemerals_pins_and_reactions_show_in_state(emu: Emulator, page: PageApp) -> None:
    msg = emu.post_as_user("U0ANA", "C0CRISES", "look")
    emu.show_ephemeral("U0ANA", "C0CRISES", "just for ana")
    assert post(
        emu,
        "/sandbox/react",
        {"user": "U0BEN", "channel": "C0CRISES", "ts": msg.ts, "name": "eyes"},
    )[1]["added"]
    ana = state(emu, "U0ANA", "C0CRISES")["channel"]
    texts = [m["text"] for m in ana["messages"]]
    assert "look" in texts and "just for ana" in texts
    assert next(m for m in ana["messages"] if m["text"] == "just for ana")["ephemeral"]
    shown = next(m for m in ana["messages"] if m["text"] == "look")
    assert shown["reactions"] == [{"name": "eyes", "users": ["U0BEN"], "count": 1}]
    ben = state(emu, "U0BEN", "C0CRISES")["channel"]
    assert "just for ana" not in [m["text"] for m in ben["messages"]]
    # Clicking the same reaction again takes it back, as in Slack.
    assert not post(
        emu,
        "/sandbox/react",
        {"user": "U0BEN", "channel": "C0CRISES", "ts": msg.ts, "name": "eyes"},
    )[1]["added"]


def test_the_composer_sends_commands_and_messages_as_slack_would(
    emu: Emulator, page: PageApp, app: FakeApp
) -> None:
    status, answer = post(
        emu,
        "/sandbox/command",
        {
            "user": "U0ANA",
            "channel": "C0CRISES",
            "text": "/crisis owner @ben & <!channel>",
        },
    )
    assert status == 200 and answer["ok"]
    form = app.received[0].form()
    # should_escape: @ben is linked; & and < > are always escaped.
    assert form["text"] == "owner <@U0BEN|ben> &amp; &lt;!channel&gt;"
    status, answer = post(
        emu,
        "/sandbox/post",
        {
            "user": "U0ANA",
            "channel": "C0CRISES",
            "text": "ping @dana in #general",
        },
    )
    assert status == 200
    assert emu.messages("C0CRISES")[-1].text == "ping <@U0DANA> in <#C0GENERAL|general>"


def test_an_unknown_command_gets_slackbots_answer(emu: Emulator, page: PageApp) -> None:
    _, answer = post(
        emu,
        "/sandbox/command",
        {
            "user": "U0ANA",
            "channel": "C0GENERAL",
            "text": "/giphy cats",
        },
    )
    assert answer["error"] == "unknown_command"
    (notice,) = emu.ephemerals("U0ANA")
    assert notice.sender == "USLACKBOT" and "not a valid command" in notice.text


def test_people_can_only_act_where_they_are_members(emu: Emulator, page: PageApp) -> None:
    status, answer = post(
        emu,
        "/sandbox/post",
        {
            "user": "U0CORA",
            "channel": "C0CRISES",
            "text": "let me in",
        },
    )
    assert status == 400 and "member" in answer["error"]
    status, answer = post(emu, "/sandbox/post", {"user": "U0ANA"})
    assert status == 400 and answer["error"] == "missing field 'channel'"
    status, answer = post(emu, "/sandbox/home", {"user": "U0NOBODY"})
    assert status == 400 and answer["error"] == "no such user"


def test_a_click_on_a_button_sends_block_actions(
    emu: Emulator, page: PageApp, app: FakeApp
) -> None:
    emu.workspace.chat_write_public = True
    from slack_sdk import WebClient

    client = WebClient(base_url=emu.api_url, token="xoxb-sandbox")
    blocks = [
        {
            "type": "actions",
            "block_id": "b1",
            "elements": [
                {
                    "type": "button",
                    "action_id": "crisis_ack",
                    "value": "3",
                    "text": {"type": "plain_text", "text": "Acknowledge"},
                },
            ],
        }
    ]
    ts = client.chat_postMessage(channel="C0CRISES", text="card", blocks=blocks)["ts"]
    status, answer = post(
        emu,
        "/sandbox/action",
        {
            "user": "U0DANA",
            "channel": "C0CRISES",
            "ts": ts,
            "block_id": "b1",
            "action_id": "crisis_ack",
        },
    )
    assert status == 200 and answer["ok"]
    payload = app.received[0].payload()
    assert payload["actions"][0]["value"] == "3"
    assert payload["actions"][0]["text"]["text"] == "Acknowledge"
    assert payload["user"]["id"] == "U0DANA"


def test_live_updates_arrive_as_server_sent_events(emu: Emulator, page: PageApp) -> None:
    with socket.create_connection(("127.0.0.1", emu.port), timeout=2) as sock:
        sock.sendall(b"GET /sandbox/events HTTP/1.1\r\nHost: x\r\n\r\n")
        reader = sock.makefile("rb")
        assert reader.readline().startswith(b"HTTP/1.1 200")
        headers = b""
        while (line := reader.readline()) not in (b"\r\n", b""):
            headers += line
        assert b"text/event-stream" in headers
        assert reader.readline() == b"retry: 1000\n"
        assert reader.readline() == b"event: change\n"
        first = int(reader.readline().split(b":")[1])
        reader.readline()
        emu.post_as_user("U0ANA", "C0GENERAL", "new message")
        assert reader.readline() == b"event: change\n"
        assert int(reader.readline().split(b":")[1]) > first


def test_state_names_the_channels_a_person_can_see(
    emu: Emulator, page: PageApp, client: WebClient
) -> None:
    client.conversations_create(name="secret-plans", is_private=True)
    ana = {c["name"] for c in state(emu, "U0ANA")["directory"]}
    # Public channels ana is not in (#globex-acme) are named too; others' private ones are not.
    assert ana == {"general", "cs-crises", "cs-escalations", "cs-weekly", "globex-acme"}
    # Someone from another organization sees only the channels shared with them.
    assert [c["name"] for c in state(emu, "U0CORA")["directory"]] == ["globex-acme"]


def test_state_lists_what_the_bot_sent_to_a_dm_for_the_unread_marker(
    emu: Emulator, page: PageApp, client: WebClient
) -> None:
    assert state(emu, "U0ANA")["dm_news"] == []
    first = client.chat_postMessage(channel="U0ANA", text="heads-up")["ts"]
    emu.post_as_user("U0ANA", "U0BOT", "thanks")  # ana's own answer is no news to her
    second = client.chat_postMessage(channel="U0ANA", text="overdue")["ts"]
    ana = state(emu, "U0ANA")
    assert ana["dm"] and ana["dm_news"] == [first, second]
    assert state(emu, "U0BEN")["dm_news"] == []
