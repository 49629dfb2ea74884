"""chat.* and Block Kit limits through a real WebClient."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox import Emulator

Err = Callable[..., str]
# slack_sdk warns when blocks come without fallback text; these tests do that on purpose.
no_text_warning = pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")


def section(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def test_post_and_read_back(client: WebClient, emu: Emulator) -> None:
    resp = client.chat_postMessage(channel="C0CRISES", text="fallback", blocks=[section("*SEV1*")])
    assert resp["channel"] == "C0CRISES"
    assert resp["message"]["bot_id"] == "B0BOT"
    [msg] = emu.messages("C0CRISES")
    assert msg.ts == resp["ts"] and msg.text == "fallback"
    assert msg.blocks == [section("*SEV1*")]


def test_ts_strictly_increasing(client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel="C0GENERAL", text=str(i))["ts"] for i in range(5)]
    assert stamps == sorted(stamps, key=float) and len(set(stamps)) == 5
    assert all(len(ts.split(".")[1]) == 6 for ts in stamps)


def test_post_to_user_id_lands_in_dm(client: WebClient, emu: Emulator) -> None:
    resp = client.chat_postMessage(channel="U0CHEN", text="You own this crisis")
    dm = client.conversations_open(users="U0CHEN")["channel"]["id"]
    assert resp["channel"] == dm == emu.dm_channel("U0CHEN")
    assert [m.text for m in emu.dm_messages("U0CHEN")] == ["You own this crisis"]


def test_post_by_channel_name(client: WebClient) -> None:
    assert client.chat_postMessage(channel="#cs-crises", text="hi")["channel"] == "C0CRISES"


@no_text_warning
def test_post_errors(client: WebClient, emu: Emulator, slack_error: Err) -> None:
    post = client.chat_postMessage
    assert slack_error(post, channel="C0NOPE", text="x") == "channel_not_found"
    assert slack_error(post, channel="C0ESCAL", text="x") == "not_in_channel"
    assert slack_error(post, channel="C0CRISES", text="") == "no_text"
    assert slack_error(post, channel="C0CRISES", text="x" * 40_001) == "msg_too_long"
    # The bot was invited into the channel shared with the customer; removed, it cannot post.
    assert post(channel="C0SHARED", text="x")["ok"]
    emu.workspace.channels["C0SHARED"].members.discard("U0BOT")
    assert slack_error(post, channel="C0SHARED", text="x") == "not_in_channel"
    emu.workspace.chat_write_public = True
    assert post(channel="C0ESCAL", text="with chat:write.public")["ok"]


@pytest.mark.parametrize(
    "blocks",
    [
        [section("x")] * 51,
        [section("x" * 3001)],
        [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
        [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
        [section("x", block_id="b" * 256)],
        [
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Go"},
                        "action_id": "a" * 256,
                    }
                ],
            }
        ],
        [{"type": "carousel"}],
        [section("")],
        [section("a", block_id="same"), section("b", block_id="same")],
    ],
    ids=[
        "51-blocks",
        "section-3001",
        "11-fields",
        "header-151",
        "block-id-256",
        "action-id-256",
        "unknown-type",
        "empty-text",
        "duplicate-block-id",
    ],
)
def test_invalid_blocks(client: WebClient, blocks: list[dict[str, Any]]) -> None:
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel="C0CRISES", text="t", blocks=blocks)
    assert info.value.response["error"] == "invalid_blocks"
    assert "json-pointer" in info.value.response["errors"][0]


def test_blocks_at_limits_are_fine(client: WebClient) -> None:
    blocks = [section("x" * 3000, block_id="b" * 255)] + [{"type": "divider"}] * 48
    blocks.append({"type": "header", "text": {"type": "plain_text", "text": "h" * 150}})
    assert client.chat_postMessage(channel="C0CRISES", text="t", blocks=blocks)["ok"]


def test_threads_and_broadcast(client: WebClient, emu: Emulator) -> None:
    parent = client.chat_postMessage(channel="C0CRISES", text="parent")["ts"]
    reply = client.chat_postMessage(channel="C0CRISES", text="reply", thread_ts=parent)
    assert reply["message"]["thread_ts"] == parent
    client.chat_postMessage(
        channel="C0CRISES", text="also in channel", thread_ts=parent, reply_broadcast=True
    )
    top = [m["text"] for m in client.conversations_history(channel="C0CRISES")["messages"]]
    assert "also in channel" in top and "reply" not in top
    assert [m.text for m in emu.thread("C0CRISES", parent)] == ["reply", "also in channel"]


@no_text_warning
def test_update(client: WebClient, emu: Emulator, slack_error: Err) -> None:
    ts = client.chat_postMessage(channel="C0CRISES", text="v1", blocks=[section("v1")])["ts"]
    resp = client.chat_update(channel="C0CRISES", ts=ts, text="v2")
    assert resp["text"] == "v2" and resp["ts"] == ts
    [msg] = emu.messages("C0CRISES")
    assert msg.text == "v2" and msg.blocks == [section("v1")]  # omitted blocks are kept
    assert msg.edited is not None and msg.edited["user"] == "U0BOT"
    client.chat_update(channel="C0CRISES", ts=ts, blocks=[section("v3")])
    assert emu.messages("C0CRISES")[0].blocks == [section("v3")]
    assert slack_error(client.chat_update, channel="C0CRISES", ts="1.000001", text="x") == (
        "message_not_found"
    )
    human = emu.post_as_user("U0ANA", "C0CRISES", "mine")
    assert slack_error(client.chat_update, channel="C0CRISES", ts=human.ts, text="x") == (
        "cant_update_message"
    )


def test_delete(client: WebClient, emu: Emulator, slack_error: Err) -> None:
    ts = client.chat_postMessage(channel="C0CRISES", text="oops")["ts"]
    client.chat_delete(channel="C0CRISES", ts=ts)
    assert emu.messages("C0CRISES") == []
    assert slack_error(client.chat_delete, channel="C0CRISES", ts=ts) == "message_not_found"
    human = emu.post_as_user("U0ANA", "C0CRISES", "mine")
    assert slack_error(client.chat_delete, channel="C0CRISES", ts=human.ts) == (
        "cant_delete_message"
    )


def test_ephemeral(client: WebClient, emu: Emulator, slack_error: Err) -> None:
    resp = client.chat_postEphemeral(channel="C0CRISES", user="U0ANA", text="only you")
    [eph] = emu.ephemerals("U0ANA")
    assert eph.ts == resp["message_ts"] and eph.text == "only you"
    assert emu.ephemerals("U0BEN") == []
    assert emu.messages("C0CRISES") == []  # never part of history
    assert slack_error(client.chat_postEphemeral, channel="C0CRISES", user="U0CORA", text="x") == (
        "user_not_in_channel"
    )


def test_permalink(client: WebClient, slack_error: Err) -> None:
    ts = client.chat_postMessage(channel="C0CRISES", text="x")["ts"]
    link = client.chat_getPermalink(channel="C0CRISES", message_ts=ts)["permalink"]
    assert link == f"https://acme-success.slack.com/archives/C0CRISES/p{ts.replace('.', '')}"
    assert slack_error(client.chat_getPermalink, channel="C0CRISES", message_ts="1.2") == (
        "message_not_found"
    )


def test_form_encoded_blocks_are_parsed(emu: Emulator) -> None:
    # Bolt's say() and older clients send blocks as a JSON string inside a form body.
    import json
    import urllib.parse
    import urllib.request

    body = urllib.parse.urlencode(
        {"token": "xoxb-sandbox", "channel": "C0CRISES", "blocks": json.dumps([section("hi")])}
    ).encode()
    with urllib.request.urlopen(emu.api_url + "chat.postMessage", body) as resp:
        assert json.loads(resp.read())["ok"] is True
    assert emu.messages("C0CRISES")[0].blocks == [section("hi")]
