"""Slash commands."""

from __future__ import annotations

from slack_bolt import App

from handlers.commands.crisis import handle_crisis_command


def register(app: App) -> None:
    app.command("/crisis")(handle_crisis_command)
