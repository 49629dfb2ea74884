"""Socket Mode: the app connects out to Slack over a WebSocket; no public URL.

Bolt's own handler, the built-in one (``slack_bolt.adapter.socket_mode``, slack_sdk's
``socket_mode.builtin`` client): it is synchronous and threaded like the rest of the bot (each
envelope goes to its thread pool, where ``app.dispatch`` acks and hands the work to our
listener pool), it reconnects by itself on ``disconnect`` or a dropped link, and it needs no
dependency beyond slack_sdk. Bolt recommends it over the websocket-client based one (an extra
dependency for the same behaviour); the aiohttp and websockets adapters are asyncio only, for
``AsyncApp``. `crisisbot run` and the sandbox both connect through `connect` below.
"""

from __future__ import annotations

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler

# Envelopes handled at once; each one only acks and queues (the work runs on our pools).
CONCURRENCY = 10
# How often the client pings Slack and checks its connection: a link Slack dropped is noticed
# and replaced within this many seconds (Bolt's default of 10 left the bot deaf that long).
PING_INTERVAL = 5


def connect(app: App, app_token: str) -> SocketModeHandler:
    """Open a Socket Mode connection for `app` (``apps.connections.open`` through the app's
    own Web API client, so ``SLACK_API_URL`` applies); ``close()`` it to stop.

    Raises slack_sdk's ``SlackApiError`` when Slack refuses the app-level token."""
    handler = SocketModeHandler(
        app, app_token, concurrency=CONCURRENCY, ping_interval=PING_INTERVAL
    )
    try:
        handler.connect()
    except BaseException:
        handler.close()
        raise
    return handler


__all__ = ["connect"]
