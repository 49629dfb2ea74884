"""Socket Mode: the app connects out to Slack over a WebSocket; no public URL.

Bolt's own handler, the built-in one (``slack_bolt.adapter.socket_mode``, slack_sdk's
``socket_mode.builtin`` client): it is synchronous and threaded like the rest of the bot (each
envelope goes to its thread pool, where ``app.dispatch`` acks and hands the work to our
listener pool), it reconnects by itself on ``disconnect`` or a dropped link, and it needs no
dependency beyond slack_sdk. Bolt recommends it over the websocket-client based one (an extra
dependency for the same behaviour); the aiohttp and websockets adapters are asyncio only, for
``AsyncApp``. `crisisbot run` and the sandbox both connect through `connect` below.

One change to how the client moves to a new connection when Slack asks (`HandoverClient`):
slack_sdk's client reads one connection at a time on one thread, and after opening the new
connection it closes the old one under that connection's read lock, which its reader holds for
up to 3 s (its socket read timeout) while waiting for data. For those seconds nothing reads the
new connection, where Slack already sends envelopes, nor handles what came in on the old one:
a slash command typed then timed out (Slack's ``operation_timeout``). Here each connection has
a reader of its own: the new one is read from the moment it is open, and the old one keeps
being read until its reader's last read ends, then that reader closes it.
"""

from __future__ import annotations

import itertools
import threading

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.builtin.connection import Connection, ConnectionState

# Envelopes handled at once; each one only acks and queues (the work runs on our pools).
CONCURRENCY = 10
# How often the client pings Slack and checks its connection: a link Slack dropped is noticed
# and replaced within this many seconds (Bolt's default of 10 left the bot deaf that long).
PING_INTERVAL = 5

_readers = itertools.count(1)


class HandoverClient(SocketModeClient):
    """slack_sdk's built-in client, with one reader thread per connection, so that moving to
    a new connection (Slack's ``disconnect``) leaves no moment in which envelopes go unread."""

    def connect(self) -> None:
        """Open a new connection and read it at once; the one it replaces (if any) is retired:
        it is still read until its reader's current read ends, and then closed."""
        old_session, old_state = self.current_session, self.current_session_state
        if self.wss_uri is None:
            self.wss_uri = self.issue_new_wss_url()
        session = Connection(
            url=self.wss_uri,
            logger=self.logger,
            ping_interval=self.ping_interval,
            trace_enabled=self.trace_enabled,
            all_message_trace_enabled=self.all_message_trace_enabled,
            ping_pong_trace_enabled=self.ping_pong_trace_enabled,
            receive_buffer_size=self.receive_buffer_size,
            proxy=self.proxy,
            proxy_headers=self.proxy_headers,
            on_message_listener=self._on_message,
            on_error_listener=self._on_error,
            on_close_listener=self._on_close,
            ssl_context=self.web_client.ssl,
        )
        session.connect()  # logs and leaves it inactive when it fails
        if not session.is_active() and old_session is not None and old_session.is_active():
            # Keep serving on the old one; when Slack closes it, the client reconnects.
            return
        state = ConnectionState()
        self.current_session, self.current_session_state = session, state
        self.auto_reconnect_enabled = self.default_auto_reconnect_enabled
        if session.is_active():
            threading.Thread(
                target=self._read,
                args=(session, state),
                name=f"slack-socket-mode-reader-{next(_readers)}",
                daemon=True,
            ).start()
        # The old connection's reader ends after its current read (whatever came in is handled).
        old_state.terminated = True
        if not self.current_app_monitor_started:
            self.current_app_monitor_started = True
            self.current_app_monitor.start()
        self.logger.info(f"A new session has been established (session id: {self.session_id()})")

    def _run_current_session(self) -> None:
        """slack_sdk's single reader (called every 0.1 s) has nothing to do: each connection
        has its own (`_read`)."""

    def _read(self, session: Connection, state: ConnectionState) -> None:
        try:
            session.run_until_completion(state)
        except Exception as error:  # what slack_sdk's own reader does: log, and reconnect later
            self.logger.error(
                f"Stopped reading a connection (session id: {session.session_id}, "
                f"error: {type(error).__name__})"
            )
        finally:
            if session is not self.current_session or self.closed:
                # Retired (or the client is closing): nobody reads it any more, so it is closed
                # here, by its own reader, without waiting on the read lock.
                session.close()


class Handler(SocketModeHandler):
    """Bolt's built-in Socket Mode handler on a `HandoverClient`."""

    def __init__(self, app: App, app_token: str, *, concurrency: int, ping_interval: float):
        # SocketModeHandler.__init__ would build (and start) a plain client; the rest is its own.
        self.app = app
        self.app_token = app_token
        self.client = HandoverClient(
            app_token=app_token,
            logger=app.logger,
            web_client=app.client,
            proxy=app.client.proxy,
            ping_interval=ping_interval,
            concurrency=concurrency,
        )
        self.client.socket_mode_request_listeners.append(self.handle)  # type: ignore[arg-type]


def connect(app: App, app_token: str) -> SocketModeHandler:
    """Open a Socket Mode connection for `app` (``apps.connections.open`` through the app's
    own Web API client, so ``SLACK_API_URL`` applies); ``close()`` it to stop.

    Raises slack_sdk's ``SlackApiError`` when Slack refuses the app-level token."""
    handler = Handler(app, app_token, concurrency=CONCURRENCY, ping_interval=PING_INTERVAL)
    try:
        handler.connect()
    except BaseException:
        handler.close()
        raise
    return handler


__all__ = ["HandoverClient", "connect"]
