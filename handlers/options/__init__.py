"""Options for selects whose choices come from us (``external_select``): Slack asks as the
person types and waits at most three seconds for the answer."""

from __future__ import annotations

from slack_bolt import App

from bot.blocks import modals
from bot.blocks import outage as outage_blocks
from handlers.options.customers import handle_customer_options
from handlers.options.outage import handle_account_options


def register(app: App) -> None:
    app.options(modals.CUSTOMER_SEARCH)(handle_customer_options)
    app.options(outage_blocks.ACCOUNT_SEARCH)(handle_account_options)
