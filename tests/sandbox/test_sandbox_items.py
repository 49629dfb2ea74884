"""pins.*, reactions.*, users.*, team.info and auth.test."""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk import WebClient

from sandbox import Emulator

Err = Callable[..., str]


def test_pins(client: WebClient, emu: Emulator, slack_error: Err) -> None:
    ts = client.chat_postMessage(channel="C0CRISES", text="Status: investigating")["ts"]
    client.pins_add(channel="C0CRISES", timestamp=ts)
    assert [m.ts for m in emu.pins("C0CRISES")] == [ts]
    assert slack_error(client.pins_add, channel="C0CRISES", timestamp=ts) == "already_pinned"
    items = client.pins_list(channel="C0CRISES")["items"]
    assert items[0]["message"]["ts"] == ts and items[0]["created_by"] == "U0BOT"
    assert items[0]["message"]["pinned_to"] == ["C0CRISES"]
    client.pins_remove(channel="C0CRISES", timestamp=ts)
    assert emu.pins("C0CRISES") == []
    assert slack_error(client.pins_remove, channel="C0CRISES", timestamp=ts) == "no_pin"


def test_pin_errors(client: WebClient, slack_error: Err) -> None:
    assert slack_error(client.pins_add, channel="C0CRISES", timestamp="1.000001") == (
        "message_not_found"
    )
    assert slack_error(client.pins_add, channel="C0NOPE", timestamp="1.000001") == (
        "channel_not_found"
    )
    assert slack_error(client.pins_add, channel="C0ESCAL", timestamp="1.000001") == (
        "not_in_channel"
    )


def test_reactions(client: WebClient, emu: Emulator, slack_error: Err) -> None:
    ts = client.chat_postMessage(channel="C0CRISES", text="ack?")["ts"]
    client.reactions_add(channel="C0CRISES", timestamp=ts, name="eyes")
    emu.add_reaction("U0ANA", "C0CRISES", ts, "eyes")
    emu.add_reaction("U0BEN", "C0CRISES", ts, ":white_check_mark:")
    got = client.reactions_get(channel="C0CRISES", timestamp=ts)["message"]["reactions"]
    assert {r["name"]: r["users"] for r in got} == {
        "eyes": ["U0BOT", "U0ANA"],
        "white_check_mark": ["U0BEN"],
    }
    assert slack_error(client.reactions_add, channel="C0CRISES", timestamp=ts, name="eyes") == (
        "already_reacted"
    )
    client.reactions_remove(channel="C0CRISES", timestamp=ts, name="eyes")
    assert emu.messages("C0CRISES")[0].reactions == {
        "eyes": ["U0ANA"],
        "white_check_mark": ["U0BEN"],
    }
    assert slack_error(client.reactions_remove, channel="C0CRISES", timestamp=ts, name="eyes") == (
        "no_reaction"
    )
    assert slack_error(
        client.reactions_add, channel="C0CRISES", timestamp="1.000001", name="eyes"
    ) == ("message_not_found")
    assert slack_error(
        client.reactions_add, channel="C0CRISES", timestamp=ts, name="Not An Emoji"
    ) == ("invalid_name")


def test_users(client: WebClient, slack_error: Err) -> None:
    ana = client.users_info(user="U0ANA")["user"]
    assert ana["tz"] == "America/New_York" and ana["profile"]["email"] == "ana@acme.example"
    assert ana["tz_offset"] in (-18000, -14400)
    cora = client.users_info(user="U0CORA")["user"]
    assert cora["is_stranger"] is True and cora["team_id"] == "T0CUSTOMER"
    assert "email" not in cora["profile"]  # only her own organisation sees it
    gus = client.users_info(user="U0GUS")["user"]
    assert gus["is_restricted"] is True and gus["is_ultra_restricted"] is False
    assert gus["team_id"] == "T0CRISIS" and "is_stranger" not in gus
    assert ana["is_restricted"] is False and ana["is_ultra_restricted"] is False
    assert client.team_info(team="T0CUSTOMER")["team"]["name"] == "Globex Corp"
    assert client.users_info(user="U0BOT")["user"]["is_bot"] is True
    assert slack_error(client.users_info, user="U0NOBODY") == "user_not_found"
    ids = {u["id"] for u in client.users_list()["members"]}
    # Guests are members of the workspace; people from other organisations are not.
    assert ids == {"U0BOT", "U0ANA", "U0BEN", "U0CHEN", "U0DANA", "U0GUS"}
    assert client.users_lookupByEmail(email="Chen@Acme.example")["user"]["id"] == "U0CHEN"
    assert slack_error(client.users_lookupByEmail, email="nobody@acme.example") == (
        "users_not_found"
    )


def test_team_and_auth(client: WebClient, emu: Emulator, slack_error: Err) -> None:
    assert client.team_info()["team"]["name"] == "Acme Success"
    assert client.team_info(team="T0CUSTOMER")["team"]["id"] == "T0CUSTOMER"
    auth = client.auth_test()
    assert (auth["user_id"], auth["bot_id"], auth["team_id"]) == ("U0BOT", "B0BOT", "T0CRISIS")
    bad = WebClient(base_url=emu.api_url, token="xoxb-wrong")
    assert slack_error(bad.auth_test) == "invalid_auth"
    anonymous = WebClient(base_url=emu.api_url)
    assert slack_error(anonymous.auth_test) == "not_authed"
