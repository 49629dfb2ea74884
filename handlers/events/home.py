"""The App Home tab, published each time someone opens it."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import BoltContext

from bot.blocks.home import home_view
from bot.deps import Deps, deps_of
from bot.services import crises
from bot.services.port import SlackFailure

log = logging.getLogger(__name__)


def handle_app_home_opened(event: dict[str, Any], context: BoltContext) -> None:
    if event.get("tab", "home") != "home":
        return
    deps = deps_of(context)
    deps.later(lambda: _publish(deps, event["user"]))


def _publish(deps: Deps, user_id: str) -> None:
    try:
        with deps.session_factory() as session:
            rows = crises.list_open(session, limit=200)
            view = home_view(user_id=user_id, open_crises=rows, now=deps.now())
        deps.slack.publish_home(user=user_id, view=view)
    except SlackFailure as failure:
        # Nobody to tell: the Home tab simply keeps its previous version.
        log.warning("could not publish the Home tab for %s: %s", user_id, failure)
