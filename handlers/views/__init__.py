"""Modal submissions."""

from __future__ import annotations

from slack_bolt import App

from bot.blocks import modals
from bot.blocks.accounts import ACCOUNT_FORM
from bot.blocks.telling import EDIT_FORM
from handlers.views.accounts import handle_account_submission
from handlers.views.submissions import (
    handle_close_submission,
    handle_declare_submission,
    handle_hand_over_submission,
    handle_reopen_submission,
    handle_update_submission,
)
from handlers.views.telling import handle_customer_message_edit


def register(app: App) -> None:
    app.view(modals.DECLARE)(handle_declare_submission)
    app.view(modals.UPDATE)(handle_update_submission)
    app.view(modals.CLOSE)(handle_close_submission)
    app.view(modals.HAND_OVER)(handle_hand_over_submission)
    app.view(modals.REOPEN)(handle_reopen_submission)
    app.view(ACCOUNT_FORM)(handle_account_submission)
    app.view(EDIT_FORM)(handle_customer_message_edit)
