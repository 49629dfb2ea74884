"""conversations.* through a real WebClient."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox import Emulator

Err = Callable[..., str]


def test_create_makes_bot_a_member(client: WebClient, emu: Emulator) -> None:
    resp = client.conversations_create(name="crisis-acme_2024")
    channel = resp["channel"]
    assert channel["name"] == "crisis-acme_2024"
    assert channel["is_member"] is True and channel["is_private"] is False
    assert channel["id"].startswith("C")
    assert client.conversations_members(channel=channel["id"])["members"] == ["U0BOT"]
    assert emu.channel_by_name("#crisis-acme_2024") is not None


def test_create_private(client: WebClient) -> None:
    channel = client.conversations_create(name="secret", is_private=True)["channel"]
    assert channel["is_private"] is True and channel["is_group"] is True


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("", "invalid_name_required"),
        ("a" * 81, "invalid_name_maxlength"),
        ("Crisis", "invalid_name_specials"),
        ("crisis acme", "invalid_name_specials"),
        ("crisis!", "invalid_name_specials"),
        ("---", "invalid_name_punctuation"),
        ("_-_", "invalid_name_punctuation"),
        ("general", "name_taken"),
    ],
)
def test_create_name_errors(client: WebClient, slack_error: Err, name: str, error: str) -> None:
    assert slack_error(client.conversations_create, name=name) == error


def test_name_limit_is_80(client: WebClient) -> None:
    assert client.conversations_create(name="a" * 80)["ok"]


def test_name_taken_by_archived_channel(client: WebClient, slack_error: Err) -> None:
    cid = client.conversations_create(name="old-crisis")["channel"]["id"]
    client.conversations_archive(channel=cid)
    assert slack_error(client.conversations_create, name="old-crisis") == "name_taken"


def test_invite(client: WebClient, emu: Emulator, slack_error: Err) -> None:
    cid = client.conversations_create(name="crisis-1")["channel"]["id"]
    client.conversations_invite(channel=cid, users="U0ANA,U0BEN")
    assert set(client.conversations_members(channel=cid)["members"]) == {"U0BOT", "U0ANA", "U0BEN"}
    assert slack_error(client.conversations_invite, channel=cid, users="U0ANA") == (
        "already_in_channel"
    )
    assert slack_error(client.conversations_invite, channel=cid, users="U0NOBODY") == (
        "user_not_found"
    )
    assert slack_error(client.conversations_invite, channel=cid, users="U0BOT") == (
        "cant_invite_self"
    )
    assert slack_error(client.conversations_invite, channel="C0NOPE", users="U0ANA") == (
        "channel_not_found"
    )


def test_invite_mixed_fails_whole_call_unless_forced(client: WebClient, emu: Emulator) -> None:
    cid = client.conversations_create(name="crisis-2")["channel"]["id"]
    client.conversations_invite(channel=cid, users="U0ANA")
    with pytest.raises(SlackApiError) as info:
        client.conversations_invite(channel=cid, users="U0ANA,U0CHEN")
    assert info.value.response["error"] == "already_in_channel"
    assert info.value.response["errors"] == [
        {"user": "U0ANA", "ok": False, "error": "already_in_channel"}
    ]
    assert "U0CHEN" not in client.conversations_members(channel=cid)["members"]
    forced = client.conversations_invite(channel=cid, users="U0ANA,U0CHEN", force=True)
    assert forced["errors"][0]["user"] == "U0ANA"
    assert "U0CHEN" in client.conversations_members(channel=cid)["members"]


def test_invite_needs_membership(client: WebClient, slack_error: Err) -> None:
    # The bot is not in #cs-escalations.
    assert slack_error(client.conversations_invite, channel="C0ESCAL", users="U0CHEN") == (
        "not_in_channel"
    )


def test_invite_external_user_marks_channel_shared(client: WebClient) -> None:
    cid = client.conversations_create(name="crisis-ext")["channel"]["id"]
    client.conversations_invite(channel=cid, users="U0CORA")
    assert client.conversations_info(channel=cid)["channel"]["is_ext_shared"] is True


def test_topic_and_purpose(client: WebClient, slack_error: Err) -> None:
    cid = client.conversations_create(name="crisis-3")["channel"]["id"]
    resp = client.conversations_setTopic(channel=cid, topic="SEV1: login down")
    assert resp["channel"]["topic"]["value"] == "SEV1: login down"
    client.conversations_setPurpose(channel=cid, purpose="Coordinate the Globex outage")
    info = client.conversations_info(channel=cid)["channel"]
    assert info["purpose"]["value"] == "Coordinate the Globex outage"
    assert info["topic"]["creator"] == "U0BOT"
    assert slack_error(client.conversations_setTopic, channel=cid, topic="x" * 251) == "too_long"
    assert slack_error(client.conversations_setTopic, channel="C0ESCAL", topic="x") == (
        "not_in_channel"
    )
    assert slack_error(client.conversations_setPurpose, channel="C0NOPE", purpose="x") == (
        "channel_not_found"
    )


def test_info_and_visibility(client: WebClient, slack_error: Err) -> None:
    info = client.conversations_info(channel="C0ESCAL", include_num_members=True)["channel"]
    assert info["name"] == "cs-escalations" and info["is_member"] is False
    assert info["num_members"] == 2
    assert slack_error(client.conversations_info, channel="C0NOPE") == "channel_not_found"


def test_open_dm_is_stable(client: WebClient, slack_error: Err) -> None:
    first = client.conversations_open(users="U0ANA")
    second = client.conversations_open(users="U0ANA")
    assert first["channel"]["id"] == second["channel"]["id"]
    assert first["channel"]["id"].startswith("D")
    assert second["already_open"] is True
    full = client.conversations_open(users="U0ANA", return_im=True)["channel"]
    assert full["is_im"] is True and full["user"] == "U0ANA"
    assert slack_error(client.conversations_open, users="U0NOBODY") == "user_not_found"
    assert slack_error(client.conversations_open, users="") == "users_list_not_supplied"


def test_open_group_dm(client: WebClient) -> None:
    resp = client.conversations_open(users="U0ANA,U0BEN", return_im=True)
    assert resp["channel"]["is_mpim"] is True
    assert client.conversations_open(users="U0BEN,U0ANA")["channel"]["id"] == resp["channel"]["id"]


def test_history_newest_first_with_limit_and_cursor(client: WebClient) -> None:
    cid = client.conversations_create(name="crisis-4")["channel"]["id"]
    sent = [client.chat_postMessage(channel=cid, text=f"m{i}")["ts"] for i in range(3)]
    page = client.conversations_history(channel=cid, limit=2)
    assert [m["ts"] for m in page["messages"]] == [sent[2], sent[1]]
    assert page["has_more"] is True
    rest = client.conversations_history(
        channel=cid, limit=2, cursor=page["response_metadata"]["next_cursor"]
    )
    assert rest["messages"][0]["ts"] == sent[0]
    # The creator's join notice is in history too, as in Slack.
    assert rest["messages"][-1]["subtype"] == "channel_join"
    window = client.conversations_history(channel=cid, oldest=sent[0], latest=sent[2])
    assert [m["text"] for m in window["messages"]] == ["m1"]
    inclusive = client.conversations_history(
        channel=cid, oldest=sent[0], latest=sent[2], inclusive=True
    )
    assert len(inclusive["messages"]) == 3


def test_history_errors(client: WebClient, slack_error: Err) -> None:
    assert slack_error(client.conversations_history, channel="C0NOPE") == "channel_not_found"
    assert slack_error(client.conversations_history, channel="C0ESCAL") == "not_in_channel"


def test_replies(client: WebClient, slack_error: Err) -> None:
    cid = client.conversations_create(name="crisis-5")["channel"]["id"]
    parent = client.chat_postMessage(channel=cid, text="parent")["ts"]
    r1 = client.chat_postMessage(channel=cid, text="r1", thread_ts=parent)["ts"]
    client.chat_postMessage(channel=cid, text="r2", thread_ts=r1)  # lands in the same thread
    thread = client.conversations_replies(channel=cid, ts=parent)["messages"]
    assert [m["text"] for m in thread] == ["parent", "r1", "r2"]
    assert thread[0]["reply_count"] == 2
    history = client.conversations_history(channel=cid)["messages"]
    assert "r1" not in [m["text"] for m in history]
    assert slack_error(client.conversations_replies, channel=cid, ts="1.000001") == (
        "thread_not_found"
    )


def test_join_archive_and_list(client: WebClient, slack_error: Err) -> None:
    joined = client.conversations_join(channel="C0ESCAL")
    assert joined["channel"]["is_member"] is True
    again = client.conversations_join(channel="C0ESCAL")
    assert again["warning"] == "already_in_channel"
    assert slack_error(client.conversations_archive, channel="C0GENERAL") == (
        "cant_archive_general"
    )
    client.conversations_archive(channel="C0ESCAL")
    assert slack_error(client.conversations_archive, channel="C0ESCAL") == "already_archived"
    assert slack_error(client.chat_postMessage, channel="C0ESCAL", text="x") == "is_archived"
    names = {c["name"] for c in client.conversations_list()["channels"]}
    assert {"general", "cs-crises", "cs-escalations", "globex-acme"} <= names
    active = {c["name"] for c in client.conversations_list(exclude_archived=True)["channels"]}
    assert "cs-escalations" not in active
    client.conversations_create(name="hidden", is_private=True)
    assert "hidden" not in names
    private = client.conversations_list(types="private_channel")["channels"]
    assert [c["name"] for c in private] == ["hidden"]
