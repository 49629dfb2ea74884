"""Buttons on the crisis card and on reminder DMs."""

from __future__ import annotations

from slack_bolt import App

from bot.blocks import card, home, prompts
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
from handlers.actions.telling import (
    handle_customer_told,
    handle_edit_customer_message,
    handle_send_to_customer,
)


def register(app: App) -> None:
    app.action(card.ACK)(handle_acknowledge)
    app.action(card.OPEN_UPDATE)(handle_open_update)
    app.action(card.OPEN_CLOSE)(handle_open_close)
    app.action(card.SNOOZE)(handle_snooze)
    app.action(card.OPEN_HAND_OVER)(handle_open_hand_over)
    app.action(card.HELP)(handle_help)
    app.action(card.TAKE_OVER)(handle_take_over)
    app.action(card.CHECKED_IN)(handle_checked_in)
    app.action(card.OPEN_REOPEN)(handle_open_reopen)
    app.action(home.DECLARE)(handle_home_declare)
    app.action(prompts.DECLARE_ANYWAY)(handle_declare_anyway)
    app.action(prompts.GO_TO_CRISIS)(handle_go_to_crisis)
    app.action(prompts.DECLARE_FOR_ACCOUNT)(handle_declare_for_account)
    app.action(prompts.DECLARE_NEW_CUSTOMER)(handle_declare_new_customer)
    app.action(customer_blocks.SEND)(handle_send_to_customer)
    app.action(customer_blocks.TOLD)(handle_customer_told)
    app.action(customer_blocks.EDIT)(handle_edit_customer_message)
