"""The declare form's customer type-ahead."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, BoltContext

from bot.blocks.modals import MAX_OPTIONS, customer_options
from bot.deps import deps_of
from bot.services import crises

log = logging.getLogger(__name__)


def handle_customer_options(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """The accounts matching what was typed, and the text itself as a new customer: one quick
    query and no Slack call, well within Slack's three seconds."""
    deps = deps_of(context)
    typed = str(body.get("value") or "")
    try:
        with deps.session_factory() as session:
            found, known = crises.suggest_customers(session, typed, limit=MAX_OPTIONS - 1)
            options = customer_options(found, typed, known=known)
    except Exception:
        # The person can still declare by the name they typed; the form says nothing else.
        log.exception("could not search the accounts for the declare form")
        options = customer_options([], typed, known=False)
    ack(options=options)
