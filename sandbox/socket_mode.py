"""Socket Mode as Slack speaks it: the app asks ``apps.connections.open`` (app-level token) for a
WebSocket URL, connects, gets ``hello``, then receives envelopes and acknowledges each one.

An envelope is ``{"envelope_id", "type", "payload", "accepts_response_payload"}`` with type
``slash_commands``, ``interactive`` or ``events_api`` (events also carry ``retry_attempt`` and
``retry_reason``). The app answers ``{"envelope_id": …, "payload": …}`` within 3 seconds; the
payload plays the part of the HTTP response body (a command's reply, a view submission's
``response_action``, a menu's options). Slack refreshes connections now and then: it sends
``{"type": "disconnect", "reason": "refresh_requested"}`` (or ``warning`` shortly before it
goes), the app opens a new connection, and the old one is closed. With several connections open
(up to 10), Slack gives each envelope to one of them; here, once the app has a connection it
was not told to leave, envelopes go there, so an app must read its new connection from the
moment it is open (the old one still gets them while it is the only one).

The WebSocket protocol is the ``websockets`` library's (its threaded server), not our own.
"""

from __future__ import annotations

import itertools
import json
import logging
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

logger = logging.getLogger(__name__)

JSON = dict[str, Any]
# Slack's own figure: a connection lives for a few hours before it is refreshed.
APPROXIMATE_CONNECTION_TIME = 18_060
# After a disconnect, Slack waits this long for the app to move before it closes the link.
DISCONNECT_GRACE = 10.0
# Envelope types that may carry a payload in their acknowledgement.
ACCEPTS_RESPONSE_PAYLOAD = {"slash_commands", "view_submission", "block_suggestion"}


def app_id_of(app_token: str) -> str:
    """The app an app-level token belongs to: ``xapp-1-A0123ABC-…`` → ``A0123ABC``."""
    parts = app_token.split("-")
    return parts[2] if len(parts) > 2 and parts[0] == "xapp" else ""


@dataclass
class Link:
    """One WebSocket connection from the app."""

    number: int
    connection: ServerConnection
    app_id: str
    opened_at: float = field(default_factory=time.monotonic)
    # Set once Slack has told the app to move to a new connection (it is told once).
    retiring: bool = False


@dataclass(frozen=True)
class Acknowledgement:
    """How the app answered one envelope: in time or not, and with what payload."""

    envelope_id: str
    acked: bool
    payload: JSON | None
    error: str | None
    elapsed: float


class _Waiter:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.payload: JSON | None = None


class SocketMode:
    """The emulator's Socket Mode endpoint; its server starts at the first URL it hands out."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._cond = threading.Condition()
        self._tickets: dict[str, str] = {}
        self._links: list[Link] = []
        self._numbers = itertools.count(1)
        self._waiting: dict[str, _Waiter] = {}
        self._timers: list[threading.Timer] = []
        self.opened = 0
        self.envelopes: list[JSON] = []
        self.acks: list[JSON] = []

    # --- lifecycle -----------------------------------------------------------

    def _start(self) -> Server:
        with self._cond:
            if self._server is None:
                self._server = serve(
                    self._serve,
                    self.host,
                    0,
                    process_request=self._check_ticket,
                    ping_interval=30,
                    ping_timeout=60,
                    # An app that drops its socket without a close frame is not waited on long.
                    close_timeout=2,
                )
                self._thread = threading.Thread(
                    target=self._server.serve_forever, name="slack-socket-mode", daemon=True
                )
                self._thread.start()
            return self._server

    def stop(self) -> None:
        """Close every connection and stop serving (idempotent)."""
        with self._cond:
            server, self._server = self._server, None
            thread, self._thread = self._thread, None
            links, timers = list(self._links), list(self._timers)
            self._timers.clear()
        for timer in timers:
            timer.cancel()
        for link in links:
            link.connection.close(1001, "going away")
        if server is not None:
            server.shutdown()
        if thread is not None:
            thread.join(5)

    @property
    def port(self) -> int:
        """The WebSocket port (the server is started if it was not)."""
        return int(self._start().socket.getsockname()[1])

    # --- what the Web API side does -----------------------------------------

    def open_url(self, app_id: str) -> str:
        """``apps.connections.open``: a single-use ``ws://`` URL for the app to connect to."""
        ticket = secrets.token_hex(16)
        port = self.port
        with self._cond:
            self._tickets[ticket] = app_id
        return f"ws://{self.host}:{port}/link/?ticket={ticket}&app_id={app_id}"

    def _check_ticket(self, connection: ServerConnection, request: Request) -> Response | None:
        ticket = (parse_qs(urlsplit(request.path).query).get("ticket") or [""])[0]
        with self._cond:
            app_id = self._tickets.pop(ticket, None)
        if app_id is None:
            # A URL is good for one connection; the app asks apps.connections.open again.
            return connection.respond(HTTPStatus.UNAUTHORIZED, "invalid ticket\n")
        connection.app_id = app_id  # type: ignore[attr-defined]
        return None

    # --- connections ---------------------------------------------------------

    def _serve(self, connection: ServerConnection) -> None:
        link = Link(next(self._numbers), connection, getattr(connection, "app_id", ""))
        with self._cond:
            self._links.append(link)
            self.opened += 1
            count = len(self._links)
            self._cond.notify_all()
        hello = {
            "type": "hello",
            "num_connections": count,
            "debug_info": {
                "host": f"applink-sandbox-{link.number}",
                "build_number": 1,
                "approximate_connection_time": APPROXIMATE_CONNECTION_TIME,
            },
            "connection_info": {"app_id": link.app_id},
        }
        try:
            connection.send(json.dumps(hello))
            for message in connection:
                self._on_message(message)
        except ConnectionClosed:
            pass
        finally:
            with self._cond:
                if link in self._links:
                    self._links.remove(link)
                self._cond.notify_all()

    def _on_message(self, message: str | bytes) -> None:
        try:
            data = json.loads(message)
        except (UnicodeDecodeError, json.JSONDecodeError):
            logger.warning("sandbox: socket mode: the app sent something that is not JSON")
            return
        if not isinstance(data, dict) or not data.get("envelope_id"):
            return
        with self._cond:
            self.acks.append(data)
            waiter = self._waiting.get(str(data["envelope_id"]))
        if waiter is not None:
            payload = data.get("payload")
            waiter.payload = payload if isinstance(payload, dict) else None
            waiter.done.set()

    @property
    def connections(self) -> int:
        """How many connections the app has open right now."""
        with self._cond:
            return len(self._links)

    def wait_connected(self, timeout: float = 10.0, *, opened: int = 1) -> bool:
        """Wait until the app has opened at least `opened` connections in all and one is
        open; False on timeout."""
        with self._cond:
            return self._cond.wait_for(
                lambda: self.opened >= opened and self._live() is not None, timeout
            )

    def _live(self) -> Link | None:
        """The connection the next envelope goes to. Slack gives each envelope to one of the
        app's open connections; one it has told to move (``disconnect``) is being retired, so
        as soon as the app has opened another, envelopes go there (the oldest such one). The
        retiring one is used only while it is the app's only connection."""
        for link in self._links:
            if not link.retiring:
                return link
        return self._links[0] if self._links else None

    def disconnect(
        self, reason: str = "refresh_requested", *, grace: float = DISCONNECT_GRACE
    ) -> int:
        """Ask the app to reconnect, as Slack does every few hours (``refresh_requested``) or
        shortly before it goes (``warning``). The connections told keep receiving envelopes
        only until the app opens another (see `_live`); Slack closes them after `grace`
        seconds if the app has not. Returns how many connections were told."""
        with self._cond:
            links = [link for link in self._links if not link.retiring]
            for link in links:
                link.retiring = True
        message = json.dumps(
            {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-sandbox"}}
        )
        for link in links:
            try:
                link.connection.send(message)
            except ConnectionClosed:
                continue
            timer = threading.Timer(grace, link.connection.close, (1001, "refreshed"))
            timer.daemon = True
            with self._cond:
                self._timers.append(timer)
            timer.start()
        return len(links)

    def drop(self) -> int:
        """Close every connection without warning (Slack's end going away); the app is
        expected to notice and open a new one. Returns how many were closed."""
        with self._cond:
            links = list(self._links)
        for link in links:
            link.connection.close(1011, "server restarting")
        return len(links)

    # --- envelopes -----------------------------------------------------------

    def deliver(
        self,
        kind: str,
        payload: JSON,
        *,
        timeout: float,
        accepts_response_payload: bool = False,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> Acknowledgement:
        """Send one envelope on the app's live connection and wait up to `timeout` seconds for
        its acknowledgement. With no connection (the app is not running, or is between two)
        the envelope is not sent and the delivery fails with ``dispatch_failed``."""
        envelope_id = str(uuid.uuid4())
        envelope: JSON = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        if kind == "events_api":
            envelope.update(retry_attempt=retry_attempt, retry_reason=retry_reason)
        started = time.monotonic()
        waiter = _Waiter()
        with self._cond:
            self._cond.wait_for(lambda: self._live() is not None, timeout)
            link = self._live()
            if link is None:
                return Acknowledgement(envelope_id, False, None, "dispatch_failed", 0.0)
            self._waiting[envelope_id] = waiter
            self.envelopes.append(envelope)
        try:
            link.connection.send(json.dumps(envelope))
            acked = waiter.done.wait(max(0.0, timeout - (time.monotonic() - started)))
        except ConnectionClosed:
            acked = False
        finally:
            with self._cond:
                self._waiting.pop(envelope_id, None)
        elapsed = time.monotonic() - started
        if not acked:
            return Acknowledgement(envelope_id, False, None, "operation_timeout", elapsed)
        return Acknowledgement(envelope_id, True, waiter.payload, None, elapsed)


__all__ = ["Acknowledgement", "SocketMode", "app_id_of"]
