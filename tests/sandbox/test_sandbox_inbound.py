"""Inbound traffic: Slack's request shapes, signatures, the 3-second ack and event retries."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk.signature import SignatureVerifier

from sandbox import Emulator
from sandbox.inbound import Inbound
from sandbox.manifest import DEFAULT_BOT_EVENTS, load_manifest
from tests.sandbox.conftest import SECRET, FakeApp, Received

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"


@pytest.fixture
def inbound(emu: Emulator, app: FakeApp) -> Iterator[Inbound]:
    sender = Inbound(emu, app.url, SECRET, ack_timeout=0.3, retry_delays=(0.0, 0.05, 0.1))
    sender.attach()
    yield sender
    sender.close()


def verified(received: Received) -> bool:
    verifier = SignatureVerifier(SECRET)
    return verifier.is_valid_request(received.body, received.headers)


def test_a_slash_command_is_a_signed_form_like_slacks(
    emu: Emulator, app: FakeApp, inbound: Inbound
) -> None:
    assert inbound.command("U0BEN", "C0CRISES", "new Acme: down sev1").ok
    (request,) = app.received
    assert verified(request)
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = request.form()
    assert {k: form[k] for k in ("team_id", "team_domain", "channel_id", "channel_name")} == {
        "team_id": "T0CRISIS",
        "team_domain": "acme-success",
        "channel_id": "C0CRISES",
        "channel_name": "cs-crises",
    }
    assert (form["user_id"], form["user_name"], form["command"]) == ("U0BEN", "ben", "/crisis")
    assert form["text"] == "new Acme: down sev1"
    assert form["token"] and form["api_app_id"] == "A0SANDBOX"
    assert form["trigger_id"] in emu.workspace.triggers
    # The response_url is live: the app can answer through it.
    post = urllib.request.Request(
        form["response_url"],
        data=json.dumps({"text": "later"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(post) as answer:
        assert answer.status == 200
    assert [e.text for e in emu.ephemerals("U0BEN")] == ["later"]


def test_a_bad_secret_fails_verification(app: FakeApp, inbound: Inbound) -> None:
    inbound.command("U0ANA", "C0GENERAL", "help")
    assert not SignatureVerifier("another-secret").is_valid_request(
        app.received[0].body, app.received[0].headers
    )


def test_the_ack_body_is_shown_to_the_user_only(
    emu: Emulator, app: FakeApp, inbound: Inbound
) -> None:
    app.answers = [(200, 0, "Declaring…"), (200, 0, json.dumps({"text": "t", "blocks": []}))]
    inbound.command("U0ANA", "C0GENERAL", "new Acme: down")
    assert [(e.text, e.sender) for e in emu.ephemerals("U0ANA")] == [("Declaring…", "U0BOT")]
    in_channel = {"response_type": "in_channel", "text": "Everyone sees this"}
    app.answers = [(200, 0, json.dumps(in_channel))]
    inbound.command("U0ANA", "C0GENERAL", "list")
    assert emu.messages("C0GENERAL")[-1].text == "Everyone sees this"


def test_a_command_not_acked_within_the_deadline_shows_slacks_error(
    emu: Emulator, app: FakeApp, inbound: Inbound
) -> None:
    app.answers = [(200, 0.6, "too late")]
    outcome = inbound.command("U0ANA", "C0GENERAL", "list")
    assert (outcome.ok, outcome.error) == (False, "operation_timeout")
    (notice,) = emu.ephemerals("U0ANA")
    assert notice.sender == "USLACKBOT"
    assert notice.text == '/crisis failed with the error "operation_timeout"'
    app.answers = [(500, 0, "boom")]
    assert inbound.command("U0ANA", "C0GENERAL", "list").error == "dispatch_failed"


def test_a_failing_event_is_retried_with_slacks_headers(app: FakeApp, inbound: Inbound) -> None:
    app.answers = [(500, 0, ""), (200, 0.6, ""), (200, 0, "")]
    inbound.event({"type": "reaction_added", "user": "U0ANA", "reaction": "eyes"})
    assert inbound.wait_idle(5)
    assert len(app.received) == 3
    first, second, third = app.received
    assert "X-Slack-Retry-Num" not in first.headers
    assert (second.headers["X-Slack-Retry-Num"], second.headers["X-Slack-Retry-Reason"]) == (
        "1",
        "http_error",
    )
    assert (third.headers["X-Slack-Retry-Num"], third.headers["X-Slack-Retry-Reason"]) == (
        "2",
        "http_timeout",
    )
    # A redelivery is the same event: same id, so the app can drop duplicates.
    assert len({r.json()["event_id"] for r in app.received}) == 1
    assert all(verified(r) for r in app.received)


def test_retries_stop_after_three(app: FakeApp, inbound: Inbound) -> None:
    app.default = (503, 0, "")
    inbound.event({"type": "app_home_opened", "user": "U0ANA"})
    assert inbound.wait_idle(5)
    assert [r.headers.get("X-Slack-Retry-Num") for r in app.received] == [None, "1", "2", "3"]


def test_the_event_envelope_matches_slacks(app: FakeApp, inbound: Inbound) -> None:
    inbound.event({"type": "reaction_added", "user": "U0ANA", "reaction": "eyes"})
    inbound.wait_idle()
    envelope = app.received[0].json()
    assert app.received[0].headers["Content-Type"] == "application/json"
    assert envelope["type"] == "event_callback"
    assert envelope["team_id"] == "T0CRISIS" and envelope["api_app_id"] == "A0SANDBOX"
    assert envelope["event_id"].startswith("Ev") and isinstance(envelope["event_time"], int)
    assert envelope["authorizations"][0]["user_id"] == "U0BOT"
    assert envelope["event"]["reaction"] == "eyes"


def test_people_reacting_become_events_but_the_bot_does_not(
    emu: Emulator, app: FakeApp, inbound: Inbound
) -> None:
    msg = emu.post_as_user("U0ANA", "C0CRISES", "hello")
    emu.add_reaction("U0BEN", "C0CRISES", msg.ts, "eyes")
    emu.add_reaction("U0BOT", "C0CRISES", msg.ts, "mega")
    # Out of #globex-acme, the bot hears nothing from there.
    emu.workspace.channels["C0SHARED"].members.discard("U0BOT")
    shared = emu.post_as_user("U0CHEN", "C0SHARED", "hi cora")
    emu.add_reaction("U0CORA", "C0SHARED", shared.ts, "eyes")
    inbound.wait_idle()
    events = [r.json()["event"] for r in app.received]
    assert [(e["type"], e["user"], e["reaction"]) for e in events] == [
        ("reaction_added", "U0BEN", "eyes")
    ]
    assert events[0]["item"] == {"type": "message", "channel": "C0CRISES", "ts": msg.ts}
    assert events[0]["item_user"] == "U0ANA"


def test_messages_become_events_only_when_subscribed(
    emu: Emulator, app: FakeApp, inbound: Inbound
) -> None:
    emu.post_as_user("U0ANA", "C0CRISES", "not subscribed yet")
    inbound.wait_idle()
    assert app.received == []
    inbound.bot_events = DEFAULT_BOT_EVENTS | {"message.channels"}
    emu.post_as_user("U0ANA", "C0CRISES", "now it is")
    emu.post_as_user("U0ANA", "U0BOT", "a DM is message.im, not subscribed")
    inbound.wait_idle()
    (request,) = app.received
    event = request.json()["event"]
    assert (event["type"], event["channel_type"], event["text"]) == (
        "message",
        "channel",
        "now it is",
    )
    assert event["event_ts"] == event["ts"]


def test_app_home_opened_names_the_dm_and_tab(
    emu: Emulator, app: FakeApp, inbound: Inbound
) -> None:
    inbound.app_home_opened("U0DANA", "messages")
    inbound.wait_idle()
    event = app.received[0].json()["event"]
    assert event["type"] == "app_home_opened" and event["tab"] == "messages"
    assert event["channel"] == emu.dm_channel("U0DANA")


def test_block_actions_payload(emu: Emulator, app: FakeApp, inbound: Inbound) -> None:
    emu.workspace.chat_write_public = True
    msg = emu.post_as_user("U0ANA", "C0CRISES", "card")
    action = {"type": "button", "action_id": "crisis_ack", "block_id": "card_1", "value": "7"}
    assert inbound.block_action("U0ANA", action, channel_id="C0CRISES", message_ts=msg.ts).ok
    payload = app.received[0].payload()
    assert verified(app.received[0])
    assert payload["type"] == "block_actions"
    assert payload["user"]["id"] == "U0ANA" and payload["team"]["id"] == "T0CRISIS"
    assert payload["container"] == {
        "type": "message",
        "message_ts": msg.ts,
        "channel_id": "C0CRISES",
        "is_ephemeral": False,
    }
    assert payload["channel"] == {"id": "C0CRISES", "name": "cs-crises"}
    assert payload["message"]["ts"] == msg.ts
    (sent,) = payload["actions"]
    assert (sent["action_id"], sent["block_id"], sent["value"]) == ("crisis_ack", "card_1", "7")
    assert payload["response_url"].startswith(emu.url + "/response/")
    assert payload["trigger_id"] in emu.workspace.triggers


MODAL = {
    "type": "modal",
    "callback_id": "declare_crisis",
    "private_metadata": '{"origin": "C0CRISES"}',
    "title": {"type": "plain_text", "text": "Declare"},
    "submit": {"type": "plain_text", "text": "Declare"},
    "blocks": [
        {
            "type": "input",
            "block_id": "customer",
            "label": {"type": "plain_text", "text": "Customer"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        },
        {
            "type": "input",
            "block_id": "severity",
            "label": {"type": "plain_text", "text": "Severity"},
            "element": {
                "type": "static_select",
                "action_id": "value",
                "options": [
                    {"text": {"type": "plain_text", "text": "SEV1"}, "value": "sev1"},
                    {"text": {"type": "plain_text", "text": "SEV2"}, "value": "sev2"},
                ],
            },
        },
        {
            "type": "input",
            "block_id": "owner",
            "label": {"type": "plain_text", "text": "Owner"},
            "element": {"type": "users_select", "action_id": "value"},
        },
        {
            "type": "input",
            "block_id": "responders",
            "optional": True,
            "label": {"type": "plain_text", "text": "Responders"},
            "element": {"type": "multi_users_select", "action_id": "value"},
        },
        {
            "type": "input",
            "block_id": "expected",
            "optional": True,
            "label": {"type": "plain_text", "text": "Expected"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        },
    ],
}


def open_modal(emu: Emulator, user: str = "U0ANA") -> str:
    from slack_sdk import WebClient

    client = WebClient(base_url=emu.api_url, token="xoxb-sandbox")
    trigger = emu.issue_trigger(user)
    return str(client.views_open(trigger_id=trigger, view=MODAL)["view"]["id"])


def test_view_submission_builds_state_values_like_slack(
    emu: Emulator, app: FakeApp, inbound: Inbound
) -> None:
    view_id = open_modal(emu)
    values = {
        "customer": {"value": "Globex"},
        "severity": {"value": "sev2"},
        "owner": {"value": "U0BEN"},
        "responders": {"value": ["U0CHEN", "U0NOBODY"]},
    }
    assert inbound.view_submission("U0ANA", view_id, values).ok
    payload = app.received[0].payload()
    assert payload["type"] == "view_submission"
    view = payload["view"]
    assert view["id"] == view_id and view["callback_id"] == "declare_crisis"
    assert view["private_metadata"] == '{"origin": "C0CRISES"}'
    assert view["state"]["values"] == {
        "customer": {"value": {"type": "plain_text_input", "value": "Globex"}},
        "severity": {
            "value": {
                "type": "static_select",
                "selected_option": {
                    "text": {"type": "plain_text", "text": "SEV2"},
                    "value": "sev2",
                },
            }
        },
        "owner": {"value": {"type": "users_select", "selected_user": "U0BEN"}},
        "responders": {"value": {"type": "multi_users_select", "selected_users": ["U0CHEN"]}},
        "expected": {"value": {"type": "plain_text_input", "value": None}},
    }
    assert emu.open_views("U0ANA") == []  # an empty ack closes the modal


def test_view_submission_errors_keep_the_modal_open(
    emu: Emulator, app: FakeApp, inbound: Inbound
) -> None:
    view_id = open_modal(emu)
    errors = {"response_action": "errors", "errors": {"customer": "Customer is required."}}
    app.answers = [(200, 0, json.dumps(errors))]
    outcome = inbound.view_submission("U0ANA", view_id, {})
    assert (outcome.ok, outcome.errors) == (False, {"customer": "Customer is required."})
    assert [v.id for v in emu.open_views("U0ANA")] == [view_id]


def test_the_manifest_decides_the_subscriptions(tmp_path: Path) -> None:
    assert load_manifest(tmp_path / "missing.yml").bot_events == DEFAULT_BOT_EVENTS
    custom = tmp_path / "manifest.yml"
    custom.write_text(
        "features:\n  slash_commands:\n    - command: /crisis\n      should_escape: false\n"
        "settings:\n  event_subscriptions:\n    bot_events: [reaction_added, message.im]\n"
    )
    manifest = load_manifest(custom)
    assert manifest.bot_events == {"reaction_added", "message.im"}
    assert manifest.commands == {"/crisis": False}
    if MANIFEST.is_file():
        assert "reaction_added" in load_manifest(MANIFEST).bot_events
