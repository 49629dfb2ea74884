"""Modal submissions."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import App

from bot.blocks import modals
from bot.blocks import outage as outage_blocks
from bot.blocks.accounts import ACCOUNT_FORM
from bot.blocks.telling import EDIT_FORM
from handlers.views.accounts import handle_account_submission
from handlers.views.outage import (
    handle_broadcast_submission,
    handle_outage_submission,
)
from handlers.views.outage import handle_close_submission as handle_outage_close_submission
from handlers.views.submissions import (
    handle_close_submission,
    handle_declare_submission,
    handle_hand_over_submission,
    handle_reopen_submission,
    handle_update_submission,
)
from handlers.views.telling import handle_customer_message_edit

# callback_id -> its listener
LISTENERS: dict[str, Callable[..., None]] = {
    modals.DECLARE: handle_declare_submission,
    modals.UPDATE: handle_update_submission,
    modals.CLOSE: handle_close_submission,
    modals.HAND_OVER: handle_hand_over_submission,
    modals.REOPEN: handle_reopen_submission,
    ACCOUNT_FORM: handle_account_submission,
    EDIT_FORM: handle_customer_message_edit,
    outage_blocks.OUTAGE_FORM: handle_outage_submission,
    outage_blocks.BROADCAST_FORM: handle_broadcast_submission,
    outage_blocks.CLOSE_FORM: handle_outage_close_submission,
}


def register(app: App) -> None:
    for callback_id, listener in LISTENERS.items():
        app.view(callback_id)(listener)
