"""The outage form's affected accounts: a type-ahead over the accounts."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, BoltContext

from bot.blocks.outage import account_options
from bot.deps import deps_of
from bot.services import accounts

log = logging.getLogger(__name__)


def handle_account_options(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """The affected-accounts type-ahead: one quick query, no Slack call."""
    deps = deps_of(context)
    typed = str(body.get("value") or "")
    try:
        with deps.session_factory() as session:
            options = account_options(accounts.search(session, typed, limit=100))
    except Exception:
        log.exception("could not search the accounts for the outage form")
        options = []
    ack(options=options)
