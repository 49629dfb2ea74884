"""Buttons on the crisis card and on reminder DMs."""

from __future__ import annotations

from slack_bolt import App

from bot.blocks import card, prompts
from handlers.actions.buttons import (
    handle_acknowledge,
    handle_open_close,
    handle_open_hand_over,
    handle_open_update,
    handle_snooze,
)
from handlers.actions.declaring import handle_declare_anyway, handle_go_to_crisis


def register(app: App) -> None:
    app.action(card.ACK)(handle_acknowledge)
    app.action(card.OPEN_UPDATE)(handle_open_update)
    app.action(card.OPEN_CLOSE)(handle_open_close)
    app.action(card.SNOOZE)(handle_snooze)
    app.action(card.OPEN_HAND_OVER)(handle_open_hand_over)
    app.action(prompts.DECLARE_ANYWAY)(handle_declare_anyway)
    app.action(prompts.GO_TO_CRISIS)(handle_go_to_crisis)
