"""Events API listeners."""

from __future__ import annotations

from slack_bolt import App

from handlers.events.reactions import handle_reaction_added


def register(app: App) -> None:
    app.event("reaction_added")(handle_reaction_added)
