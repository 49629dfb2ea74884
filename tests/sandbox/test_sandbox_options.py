"""External selects: Slack asks the app for options as someone types (``block_suggestion``),
shows the ones it answered in time, and submits the option picked, whole."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from sandbox import Emulator
from sandbox.inbound import Inbound
from tests.sandbox.conftest import SECRET, FakeApp


def option(text: str, value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


def modal(min_query_length: int | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "external_select", "action_id": "customer_search"}
    if min_query_length is not None:
        element["min_query_length"] = min_query_length
    return {
        "type": "modal",
        "callback_id": "declare_crisis",
        "title": {"type": "plain_text", "text": "Declare"},
        "submit": {"type": "plain_text", "text": "Declare"},
        "blocks": [
            {
                "type": "input",
                "block_id": "customer",
                "label": {"type": "plain_text", "text": "Customer"},
                "element": element,
            }
        ],
    }


@pytest.fixture
def inbound(emu: Emulator, app: FakeApp) -> Iterator[Inbound]:
    sender = Inbound(emu, app.url, SECRET, ack_timeout=0.3, retry_delays=(0.0,))
    yield sender
    sender.close()


def open_modal(emu: Emulator, view: dict[str, Any]) -> str:
    client = WebClient(base_url=emu.api_url, token="xoxb-sandbox")
    return str(client.views_open(trigger_id=emu.issue_trigger("U0ANA"), view=view)["view"]["id"])


def suggest(inbound: Inbound, view_id: str, value: str) -> tuple[bool, list[dict[str, Any]]]:
    outcome, options = inbound.block_suggestion(
        "U0ANA", view_id, block_id="customer", action_id="customer_search", value=value
    )
    return outcome.ok, options


def test_typing_sends_a_signed_block_suggestion_and_shows_the_options(
    emu: Emulator, app: FakeApp, inbound: Inbound
) -> None:
    view_id = open_modal(emu, modal(min_query_length=0))
    offered = [option("Initech", "account:1"), option("New customer: Init", "new:Init")]
    app.answers = [(200, 0, json.dumps({"options": offered}))]
    assert suggest(inbound, view_id, "Init") == (True, offered)
    (request,) = app.received
    assert SignatureVerifier(SECRET).is_valid_request(request.body, request.headers)
    payload = request.payload()
    assert payload["type"] == "block_suggestion"
    assert (payload["action_id"], payload["block_id"], payload["value"]) == (
        "customer_search",
        "customer",
        "Init",
    )
    assert payload["container"] == {"type": "view", "view_id": view_id}
    assert payload["view"]["id"] == view_id and payload["user"]["id"] == "U0ANA"
    assert "trigger_id" not in payload


def test_nothing_is_asked_below_the_min_query_length(
    emu: Emulator, app: FakeApp, inbound: Inbound
) -> None:
    view_id = open_modal(emu, modal())  # Slack's default: three characters
    assert suggest(inbound, view_id, "In") == (True, [])
    assert app.received == []


@pytest.mark.parametrize(
    "answer",
    [
        {"options": [option("x" * 76, "v")]},
        {"options": [option("Initech", "v" * 151)]},
        {"options": [option(f"n{i}", f"v{i}") for i in range(101)]},
        {"text": "not options"},
    ],
    ids=["text-too-long", "value-too-long", "too-many", "no-options"],
)
def test_an_answer_slack_rejects_shows_nothing(
    emu: Emulator, app: FakeApp, inbound: Inbound, answer: dict[str, Any]
) -> None:
    view_id = open_modal(emu, modal(min_query_length=0))
    app.answers = [(200, 0, json.dumps(answer))]
    assert suggest(inbound, view_id, "") == (False, [])


def test_a_late_answer_shows_nothing(emu: Emulator, app: FakeApp, inbound: Inbound) -> None:
    view_id = open_modal(emu, modal(min_query_length=0))
    app.answers = [(200, 0.5, json.dumps({"options": [option("Initech", "account:1")]}))]
    assert suggest(inbound, view_id, "") == (False, [])


def test_the_submission_carries_the_option_picked_whole(
    emu: Emulator, app: FakeApp, inbound: Inbound
) -> None:
    view_id = open_modal(emu, modal(min_query_length=0))
    app.answers = [(200, 0, json.dumps({"options": [option("Initech", "account:1")]}))]
    suggest(inbound, view_id, "ini")
    values = {"customer": {"customer_search": "account:1"}}
    assert inbound.view_submission("U0ANA", view_id, values).ok
    state = app.received[-1].payload()["view"]["state"]["values"]
    assert state == {
        "customer": {
            "customer_search": {
                "type": "external_select",
                "selected_option": option("Initech", "account:1"),
            }
        }
    }


def test_a_value_never_offered_is_no_pick(emu: Emulator, app: FakeApp, inbound: Inbound) -> None:
    view_id = open_modal(emu, modal(min_query_length=0))
    inbound.view_submission("U0ANA", view_id, {"customer": {"customer_search": "account:9"}})
    state = app.received[-1].payload()["view"]["state"]["values"]
    assert state["customer"]["customer_search"]["selected_option"] is None


def test_a_multi_select_keeps_every_pick_across_searches(
    emu: Emulator, app: FakeApp, inbound: Inbound
) -> None:
    view = modal(min_query_length=0)
    view["blocks"][0]["element"] = {
        "type": "multi_external_select",
        "action_id": "customer_search",
        "min_query_length": 0,
    }
    view_id = open_modal(emu, view)
    app.answers = [
        (200, 0, json.dumps({"options": [option("Initech", "1")]})),
        (200, 0, json.dumps({"options": [option("Globex Corp", "2")]})),
    ]
    assert suggest(inbound, view_id, "ini") == (True, [option("Initech", "1")])
    assert suggest(inbound, view_id, "glo") == (True, [option("Globex Corp", "2")])
    values = {"customer": {"customer_search": ["1", "2", "9"]}}
    assert inbound.view_submission("U0ANA", view_id, values).ok
    state = app.received[-1].payload()["view"]["state"]["values"]
    assert state["customer"]["customer_search"] == {
        "type": "multi_external_select",
        "selected_options": [option("Initech", "1"), option("Globex Corp", "2")],
    }
