"""Buttons on the crisis card and on reminder DMs."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import App

from bot.blocks import card, home, prompts
from bot.blocks import outage as outage_blocks
from bot.blocks import telling as customer_blocks
from handlers.actions.buttons import (
    handle_acknowledge,
    handle_checked_in,
    handle_help,
    handle_home_declare,
    handle_open_close,
    handle_open_hand_over,
    handle_open_reopen,
    handle_open_update,
    handle_snooze,
    handle_take_over,
)
from handlers.actions.declaring import (
    handle_declare_anyway,
    handle_declare_for_account,
    handle_declare_new_customer,
    handle_go_to_crisis,
)
from handlers.actions.outage import handle_open_broadcast, handle_send_broadcast
from handlers.actions.telling import (
    handle_customer_told,
    handle_edit_customer_message,
    handle_send_check_in,
    handle_send_to_customer,
)

# action_id -> its listener
LISTENERS: dict[str, Callable[..., None]] = {
    card.ACK: handle_acknowledge,
    card.OPEN_UPDATE: handle_open_update,
    card.OPEN_CLOSE: handle_open_close,
    card.SNOOZE: handle_snooze,
    card.OPEN_HAND_OVER: handle_open_hand_over,
    card.HELP: handle_help,
    card.TAKE_OVER: handle_take_over,
    card.CHECKED_IN: handle_checked_in,
    card.OPEN_REOPEN: handle_open_reopen,
    card.SEND_CHECK_IN: handle_send_check_in,
    home.DECLARE: handle_home_declare,
    prompts.DECLARE_ANYWAY: handle_declare_anyway,
    prompts.GO_TO_CRISIS: handle_go_to_crisis,
    prompts.DECLARE_FOR_ACCOUNT: handle_declare_for_account,
    prompts.DECLARE_NEW_CUSTOMER: handle_declare_new_customer,
    customer_blocks.SEND: handle_send_to_customer,
    customer_blocks.TOLD: handle_customer_told,
    customer_blocks.EDIT: handle_edit_customer_message,
    outage_blocks.OPEN_BROADCAST: handle_open_broadcast,
    outage_blocks.SEND_BROADCAST: handle_send_broadcast,
}


def register(app: App) -> None:
    for action_id, listener in LISTENERS.items():
        app.action(action_id)(listener)
