"""The app uninstalled from a workspace, or its bot token revoked: that workspace's reminders
stop; its crises, accounts and history are kept."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import BoltContext

from bot.deps import deps_of
from bot.services import workspaces

log = logging.getLogger(__name__)


def handle_app_uninstalled(context: BoltContext) -> None:
    _stop(context, why="app uninstalled")


def handle_tokens_revoked(event: dict[str, Any], context: BoltContext) -> None:
    # A user token revoked leaves the bot working; only the bot's token matters.
    if (event.get("tokens") or {}).get("bot"):
        _stop(context, why="bot token revoked")


def _stop(context: BoltContext, *, why: str) -> None:
    deps = deps_of(context)
    if not deps.many_workspaces:
        log.warning("%s; a single-workspace bot keeps running until it is stopped", why)
        return
    with deps.session_factory() as session:
        known = workspaces.uninstalled(session=session, team_id=deps.team_id, now=deps.now())
    if deps.gateways is not None:
        deps.gateways.revoke(deps.team_id)
    log.info(
        "workspace %s: %s; its reminders stop%s",
        deps.team_id,
        why,
        "" if known else " (never installed)",
    )
