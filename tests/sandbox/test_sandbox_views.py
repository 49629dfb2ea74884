"""views.* through a real WebClient."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient

from sandbox import Emulator

Err = Callable[..., str]


def modal(title: str = "Declare crisis", **extra: Any) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": "declare",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Declare"},
        "blocks": [
            {
                "type": "input",
                "block_id": "customer",
                "label": {"type": "plain_text", "text": "Customer"},
                "element": {"type": "plain_text_input", "action_id": "name"},
            }
        ],
    }
    view.update(extra)
    return view


def test_open_update_push(client: WebClient, emu: Emulator, slack_error: Err) -> None:
    trigger = emu.issue_trigger("U0ANA")
    view = client.views_open(trigger_id=trigger, view=modal())["view"]
    assert view["id"].startswith("V") and view["callback_id"] == "declare"
    assert [v.id for v in emu.open_views("U0ANA")] == [view["id"]]
    updated = client.views_update(view_id=view["id"], view=modal("Step 2"), hash=view["hash"])
    assert updated["view"]["title"]["text"] == "Step 2"
    assert slack_error(
        client.views_update, view_id=view["id"], view=modal(), hash=view["hash"]
    ) == ("hash_conflict")
    assert slack_error(client.views_update, view_id="V0NOPE", view=modal()) == "not_found"
    pushed = client.views_push(trigger_id=emu.issue_trigger("U0ANA"), view=modal("More"))["view"]
    assert pushed["root_view_id"] == view["id"] and pushed["previous_view_id"] == view["id"]
    client.views_push(trigger_id=emu.issue_trigger("U0ANA"), view=modal("Third"))
    assert slack_error(
        client.views_push, trigger_id=emu.issue_trigger("U0ANA"), view=modal("Fourth")
    ) == ("push_limit_reached")


def test_modal_limits(client: WebClient, slack_error: Err) -> None:
    open_ = client.views_open
    assert slack_error(open_, trigger_id="t", view=modal("x" * 25)) == "invalid_arguments"
    assert slack_error(open_, trigger_id="t", view=modal(private_metadata="m" * 3001)) == (
        "invalid_arguments"
    )
    too_many = modal(blocks=[{"type": "divider"}] * 101)
    assert slack_error(open_, trigger_id="t", view=too_many) == "invalid_arguments"
    assert open_(trigger_id="t", view=modal("x" * 24, private_metadata="m" * 3000))["ok"]


def test_strict_triggers(client: WebClient, emu: Emulator, slack_error: Err) -> None:
    emu.set_strict_triggers()
    assert slack_error(client.views_open, trigger_id="made.up", view=modal()) == (
        "invalid_trigger_id"
    )
    trigger = emu.issue_trigger("U0BEN")
    assert client.views_open(trigger_id=trigger, view=modal())["ok"]
    assert slack_error(client.views_open, trigger_id=trigger, view=modal()) == (
        "exchanged_trigger_id"
    )
    stale = emu.issue_trigger("U0BEN")
    emu.workspace.triggers[stale] = ("U0BEN", emu.workspace.now() - 3.5)
    assert slack_error(client.views_open, trigger_id=stale, view=modal()) == "expired_trigger_id"


def test_publish_home(client: WebClient, emu: Emulator, slack_error: Err) -> None:
    home = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Hi"}}],
    }
    first = client.views_publish(user_id="U0DANA", view=home)["view"]
    second = client.views_publish(user_id="U0DANA", view=home)["view"]
    assert first["id"] == second["id"] and first["hash"] != second["hash"]
    stored = emu.home_view("U0DANA")
    assert stored is not None and stored.view["blocks"] == home["blocks"]
    assert slack_error(client.views_publish, user_id="U0NOBODY", view=home) == "user_not_found"
    assert slack_error(client.views_publish, user_id="U0DANA", view=modal()) == (
        "invalid_arguments"
    )
