"""Slack listeners: thin functions that ack, parse, call a service and render."""

from __future__ import annotations

from slack_bolt import App

from handlers import actions, commands, events, options, views


def register_listeners(app: App) -> None:
    """Wire every listener kind to the app."""
    commands.register(app)
    actions.register(app)
    options.register(app)
    views.register(app)
    events.register(app)
