"""HTTP details, faults, rate limits, response URLs, the call record and change events."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

from sandbox import Emulator


def raw(
    emu: Emulator,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Send a request without slack_sdk and return (status, JSON body, headers)."""
    request = urllib.request.Request(emu.url + path, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request) as resp:
            return resp.status, json.loads(resp.read()), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read()), dict(exc.headers)


BEARER = {"Authorization": "Bearer xoxb-sandbox"}


def test_unknown_method(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as info:
        client.api_call("chat.teleport", json={"channel": "C0CRISES"})
    assert info.value.response.status_code == 200
    assert info.value.response["error"] == "unknown_method"


def test_form_body_with_token_field(emu: Emulator) -> None:
    status, body, _ = raw(emu, "/api/conversations.create", b"token=xoxb-sandbox&name=by-form")
    assert status == 200 and body["channel"]["name"] == "by-form"


def test_json_body_needs_bearer_header(emu: Emulator) -> None:
    payload = json.dumps({"channel": "C0CRISES", "text": "hi"}).encode()
    json_type = {"Content-Type": "application/json; charset=utf-8"}
    _, ok, _ = raw(emu, "/api/chat.postMessage", payload, {**json_type, **BEARER})
    assert ok["ok"] is True
    # Slack does not read a token from a JSON body.
    with_token = json.dumps({"token": "xoxb-sandbox", "channel": "C0CRISES", "text": "x"}).encode()
    _, denied, _ = raw(emu, "/api/chat.postMessage", with_token, json_type)
    assert denied["error"] == "not_authed"
    _, broken, _ = raw(emu, "/api/chat.postMessage", b"{nope", {**json_type, **BEARER})
    assert broken["error"] == "invalid_json"


def test_get_with_query_string(emu: Emulator) -> None:
    _, body, _ = raw(emu, "/api/conversations.info?channel=C0GENERAL", headers=BEARER)
    assert body["channel"]["name"] == "general"


def test_rate_limit_answers_429_with_retry_after(emu: Emulator, client: WebClient) -> None:
    emu.set_rate_limits(True, window=30.0)
    for i in range(20):  # Tier 2: 20 per window
        client.conversations_setTopic(channel="C0CRISES", topic=f"t{i}")
    with pytest.raises(SlackApiError) as info:
        client.conversations_setTopic(channel="C0CRISES", topic="one too many")
    resp = info.value.response
    assert resp.status_code == 429 and resp["error"] == "ratelimited"
    assert 1 <= int(resp.headers["Retry-After"]) <= 30
    assert emu.calls[-1].status == 429
    emu.set_rate_limits(False)
    assert client.conversations_setTopic(channel="C0CRISES", topic="free again")["ok"]


def test_rate_limit_retry_handler_succeeds(emu: Emulator) -> None:
    emu.set_rate_limits(True)  # chat.postMessage: about 1 per second per channel
    client = WebClient(
        base_url=emu.api_url, token="xoxb-sandbox", retry_handlers=[RateLimitErrorRetryHandler()]
    )
    client.chat_postMessage(channel="C0CRISES", text="first")
    assert client.chat_postMessage(channel="C0CRISES", text="second")["ok"]
    statuses = [c.status for c in emu.calls_to("chat.postMessage")]
    assert statuses == [200, 429, 200]
    assert len(emu.messages("C0CRISES")) == 2


def test_error_rate_is_seeded(emu: Emulator, client: WebClient) -> None:
    emu.set_error_rate(0.5, seed=7)
    outcomes = []
    for _ in range(20):
        try:
            outcomes.append(client.auth_test().status_code)
        except SlackApiError as exc:
            outcomes.append(exc.response.status_code)
    assert {500, 503} & set(outcomes) and 200 in outcomes
    assert set(outcomes) <= {200, 500, 503}


def test_server_error_retry_and_apply(emu: Emulator) -> None:
    client = WebClient(
        base_url=emu.api_url, token="xoxb-sandbox", retry_handlers=[ServerErrorRetryHandler()]
    )
    emu.fail_next("chat.postMessage", "service_unavailable", status=503)
    assert client.chat_postMessage(channel="C0CRISES", text="retried")["ok"]
    assert [c.status for c in emu.calls_to("chat.postMessage")] == [503, 200]
    # A failure after the work was done: a blind retry posts twice, as it would on Slack.
    emu.set_error_rate(1.0, statuses=(500,), apply=True)
    with pytest.raises(SlackApiError):
        WebClient(base_url=emu.api_url, token="xoxb-sandbox").chat_postMessage(
            channel="C0CRISES", text="applied"
        )
    assert [m.text for m in emu.messages("C0CRISES")] == ["retried", "applied"]


def test_fail_next_with_slack_error(emu: Emulator, client: WebClient) -> None:
    emu.fail_next("conversations.create", "restricted_action")
    with pytest.raises(SlackApiError) as info:
        client.conversations_create(name="blocked")
    assert info.value.response["error"] == "restricted_action"
    assert client.conversations_create(name="blocked")["ok"]


def test_latency(emu: Emulator, client: WebClient) -> None:
    emu.set_latency(0.2)
    start = time.monotonic()
    client.auth_test()
    assert time.monotonic() - start >= 0.2


def test_call_record(emu: Emulator, client: WebClient) -> None:
    client.chat_postMessage(channel="C0CRISES", text="hello")
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C0NOPE", text="x")
    ok, failed = emu.calls_to("chat.postMessage")
    assert ok.ok and ok.args == {"channel": "C0CRISES", "text": "hello"} and ok.status == 200
    assert not failed.ok and failed.error == "channel_not_found"
    assert "token" not in ok.args
    emu.clear_calls()
    assert emu.calls == []


def test_wait_for(emu: Emulator, client: WebClient) -> None:
    timer = threading.Timer(0.1, lambda: client.chat_postMessage(channel="C0CRISES", text="x"))
    timer.start()
    calls = emu.wait_for(lambda: emu.calls_to("chat.postMessage"), timeout=2)
    assert calls[0].ok
    with pytest.raises(TimeoutError):
        emu.wait_for(lambda: emu.calls_to("views.open"), timeout=0.1)


def test_response_url(emu: Emulator, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C0CRISES", text="Declare?")["ts"]
    url = emu.new_response_url("C0CRISES", "U0ANA", message_ts=ts)
    hook = WebhookClient(url)
    assert hook.send(text="Only Ana sees this").body == "ok"
    assert [e.text for e in emu.ephemerals("U0ANA")] == ["Only Ana sees this"]
    hook.send(text="Everyone sees this", response_type="in_channel")
    assert emu.messages("C0CRISES")[-1].text == "Everyone sees this"
    hook.send(text="Declared", replace_original=True)
    assert emu.messages("C0CRISES")[0].text == "Declared"
    hook.send(delete_original=True)
    assert [m.text for m in emu.messages("C0CRISES")] == ["Everyone sees this"]
    posts = emu.response_posts
    assert [p.response_type for p in posts][:2] == ["ephemeral", "in_channel"]
    assert posts[2].replace_original and posts[3].delete_original
    assert hook.send(text="fifth use").status_code == 200
    assert hook.send(text="sixth use").status_code == 404  # five uses per URL, as in Slack
    assert WebhookClient(emu.url + "/response/R0NOPE").send(text="x").status_code == 404


def test_subscriber_sees_changes(emu: Emulator, client: WebClient) -> None:
    events: list[dict[str, Any]] = []
    unsubscribe = emu.workspace.subscribe(events.append)
    try:
        ts = client.chat_postMessage(channel="C0CRISES", text="hi")["ts"]
        emu.add_reaction("U0ANA", "C0CRISES", ts, "eyes")
        client.views_open(
            trigger_id=emu.issue_trigger("U0ANA"),
            view={"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": []},
        )
    finally:
        unsubscribe()
    kinds = [e["type"] for e in events]
    assert kinds == ["message", "reaction_added", "view_opened"]
    assert events[0]["channel"] == "C0CRISES" and events[0]["channel_type"] == "channel"
    assert events[1]["item"] == {"type": "message", "channel": "C0CRISES", "ts": ts}
    assert events[2]["user"] == "U0ANA"


def test_post_as_user_in_dm(emu: Emulator, client: WebClient) -> None:
    msg = emu.post_as_user("U0BEN", "U0BOT", "help")
    assert msg.channel == emu.dm_channel("U0BEN")
    history = client.conversations_history(channel=msg.channel)["messages"]
    assert history[0]["user"] == "U0BEN" and history[0]["text"] == "help"


def test_concurrent_posts_get_unique_increasing_ts(emu: Emulator, client: WebClient) -> None:
    def post_many(channel: str) -> None:
        for i in range(10):
            client.chat_postMessage(channel=channel, text=str(i))

    threads = [threading.Thread(target=post_many, args=(c,)) for c in ["C0CRISES", "C0GENERAL"] * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stamps = [m.ts for c in ("C0CRISES", "C0GENERAL") for m in emu.messages(c)]
    assert len(stamps) == len(set(stamps)) == 60
    for channel in ("C0CRISES", "C0GENERAL"):
        in_order = [m.ts for m in emu.messages(channel)]
        assert in_order == sorted(in_order, key=lambda ts: tuple(map(int, ts.split("."))))


def test_reset_restores_seed_and_keeps_subscribers(emu: Emulator, client: WebClient) -> None:
    events: list[dict[str, Any]] = []
    unsubscribe = emu.workspace.subscribe(events.append)
    try:
        client.conversations_create(name="temp")
        emu.set_rate_limits(True)
        emu.reset()
        assert emu.channel_by_name("temp") is None and emu.calls == []
        client.chat_postMessage(channel="C0CRISES", text="after reset")
        assert events[-1]["text"] == "after reset"
    finally:
        unsubscribe()
