"""The App Home tab, published each time someone opens it."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from slack_bolt import BoltContext

from bot.blocks.home import home_view
from bot.deps import Deps, deps_of
from bot.services import crises, report
from bot.services.port import SlackFailure

log = logging.getLogger(__name__)

# The figures the Home tab shows: yours and the team's over this period.
FIGURES_PERIOD = timedelta(days=30)


def handle_app_home_opened(event: dict[str, Any], context: BoltContext) -> None:
    if event.get("tab", "home") != "home":
        return
    deps = deps_of(context)
    deps.later(lambda: _publish(deps, event["user"]))


def _publish(deps: Deps, user_id: str) -> None:
    try:
        with deps.session_factory() as session:
            now = deps.now()
            rows = crises.list_open(session, limit=200)
            figures = report.figures(
                session, team_id="", start=now - FIGURES_PERIOD, end=now, changes_limit=0
            )
            mine = next((r for r in figures.by_owner if r.key == user_id), None)
            view = home_view(
                user_id=user_id, open_crises=rows, now=now, mine=mine, team=figures.total
            )
        deps.slack.publish_home(user=user_id, view=view)
    except SlackFailure as failure:
        # Nobody to tell: the Home tab simply keeps its previous version.
        log.warning("could not publish the Home tab for %s: %s", user_id, failure)
