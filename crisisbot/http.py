"""Slack's requests at ``/slack/events`` served by waitress, a production WSGI server.

Bolt's WSGI adapter answers Slack; around it, ``GET /health`` (alive), ``GET /ready`` (database
reachable, schema current) and a check that turns a malformed request into one 400 and one log
line. waitress reads requests on one asyncore loop, so a slow client costs a socket, not a thread;
the body cap is enforced from ``Content-Length`` before the body is read, and a request whose
headers and body have not all arrived within the read timeout is dropped.
"""

from __future__ import annotations

import contextlib
import hmac
import io
import logging
import select
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from hashlib import sha256
from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask

from crisisbot.wire import malformed

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
MAX_BODY = 1_000_000
MAX_HEADERS = 64_000

Readiness = Callable[[], "str | None"]
"""Returns None when the bot can serve, else why not (one line)."""


class _Unparseable(Exception):
    """Bolt could not read a request that passed ``malformed``'s checks."""


class _BoltAdapter(SlackRequestHandler):
    """Bolt's WSGI adapter, with its request parsing kept apart from its dispatch: a body Bolt
    cannot read is the client's fault (400), not ours (500)."""

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        try:
            bolt_request = BoltRequest(
                body=request.get_body(),
                query=request.query_string,
                headers=request.get_headers(),
            )
        except Exception as error:
            raise _Unparseable(type(error).__name__) from None
        return self.app.dispatch(bolt_request)


class SlackWSGI:
    """The WSGI application: health, readiness, then Bolt's adapter for well-formed requests."""

    def __init__(self, app: App, *, signing_secret: str, ready: Readiness | None = None) -> None:
        self.bolt = _BoltAdapter(app, path=EVENTS_PATH)
        self.secret = signing_secret.encode()
        self.ready = ready

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
        if method == "GET" and path == "/health":
            return _plain(start_response, "200 OK", "ok")
        if method == "GET" and path == "/ready":
            problem = self._not_ready()
            if problem:
                log.warning("not ready: %s", problem)
                return _plain(start_response, "503 Service Unavailable", "not ready")
            return _plain(start_response, "200 OK", "ready")
        if method == "POST" and path == EVENTS_PATH:
            # waitress has read the whole body already (and refused it past MAX_BODY).
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            problem = malformed(body, environ.get("CONTENT_TYPE", ""))
            if problem and not self._signed(body, environ):
                # Not from Slack: Bolt's answer to a bad signature, without parsing it.
                log.warning(
                    "rejected a request from %s: the signature is missing or wrong",
                    environ.get("REMOTE_ADDR", "?"),
                )
                return _plain(start_response, "401 Unauthorized", "invalid request")
            if problem:
                log.warning(
                    "rejected a malformed request from %s: %s",
                    environ.get("REMOTE_ADDR", "?"),
                    problem,
                )
                return _plain(start_response, "400 Bad Request", "bad request")
            environ["wsgi.input"] = io.BytesIO(body)
        try:
            return self.bolt(environ, start_response)
        except _Unparseable as error:
            log.warning(
                "rejected a malformed request from %s: Bolt could not read it (%s)",
                environ.get("REMOTE_ADDR", "?"),
                error,
            )
            return _plain(start_response, "400 Bad Request", "bad request")
        except Exception as error:
            # One line that says where, not a traceback that may quote the request.
            frame = traceback.extract_tb(error.__traceback__)[-1]
            log.error(
                "failed to answer a request to %s: %s at %s:%s",
                path,
                type(error).__name__,
                frame.filename,
                frame.lineno,
            )
            return _plain(start_response, "500 Internal Server Error", "internal error")

    def _signed(self, body: bytes, environ: WSGIEnvironment) -> bool:
        """Slack's v0 signature over the bytes as sent (slack_sdk's verifier wants text)."""
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
        signature = environ.get("HTTP_X_SLACK_SIGNATURE", "")
        try:
            fresh = abs(time.time() - int(timestamp)) <= 60 * 5
        except ValueError:
            return False
        expected = hmac.new(self.secret, b"v0:" + timestamp.encode() + b":" + body, sha256)
        return fresh and hmac.compare_digest("v0=" + expected.hexdigest(), signature)

    def _not_ready(self) -> str | None:
        if self.ready is None:
            return None
        try:
            return self.ready()
        except Exception as error:
            return f"{type(error).__name__}: {error}".splitlines()[0]


def _plain(start_response: StartResponse, status: str, text: str) -> list[bytes]:
    payload = text.encode()
    start_response(
        status,
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(payload)))],
    )
    return [payload]


class _LoggedErrorTask(ErrorTask):
    """waitress's answer to a request it could not parse (bad Content-Length, too large…),
    with one log line naming the problem, never the body."""

    def execute(self) -> None:
        error = self.request.error
        client = self.channel.addr[0] if self.channel.addr else "?"
        if error.code >= 500:
            log.error("failed to answer a request from %s: %s", client, error.reason)
        else:
            log.warning(
                "rejected a malformed request from %s: %s (%s)", client, error.reason, error.body
            )
        super().execute()


class _Channel(HTTPChannel):
    """A connection; remembers when its current request began, for the read timeout."""

    error_task_class = _LoggedErrorTask
    request_began = 0.0

    def received(self, data: bytes) -> bool:
        if self.request is None:
            self.request_began = time.time()
        return bool(super().received(data))

    def parked(self) -> bool:
        """Only waiting for its client: nothing to send, nothing running, nothing to close.
        It stays so until its socket has an event (or maintenance closes it)."""
        return bool(
            self.connected
            and not self.requests
            and not self.total_outbufs_len
            and not self.will_close
            and not self.close_when_flushed
        )


READ = select.POLLIN | select.POLLPRI


class _Loop:
    """waitress's poll loop (``wasyncore.poll2``) without its cost per open connection.

    ``poll2`` asks every dispatcher whether it is readable or writable and builds a new poll
    set on every turn: with 300 slow clients connected that is about 1 ms a turn, several turns a
    request. Here the poll set is kept between turns, and a connection that is only waiting
    for its client (``_Channel.parked``) is not asked again until its socket has an event;
    only the loop's thread changes such a connection (task threads work on connections with
    a request), so its answer cannot change meanwhile.
    """

    def __init__(self) -> None:
        self.poller = select.poll()
        self.registered: dict[int, tuple[Any, int]] = {}
        self.parked: set[int] = set()
        # Set when something other than an event on its socket may have changed a parked
        # connection (maintenance, a thunk run through the trigger).
        self.repoll_all = False

    def run(self, map: dict[int, Any], timeout: float) -> None:
        while map:
            self.turn(map, timeout)

    def turn(self, map: dict[int, Any], timeout: float) -> None:
        for fd in self.registered.keys() - map.keys():
            self._forget(fd)
        if self.repoll_all:
            self.parked.clear()
            self.repoll_all = False
        registered, parked = self.registered, self.parked
        # Set arithmetic in C: the parked connections cost nothing per turn.
        for fd in map.keys() - parked:
            obj = map[fd]
            known = registered.get(fd)
            flags = READ if obj.readable() else 0
            if obj.writable() and not obj.accepting:
                flags |= select.POLLOUT
            if known is None or known[0] is not obj or known[1] != flags:
                if flags:
                    self.poller.register(fd, flags)
                elif known is not None:
                    self._unregister(fd)
                registered[fd] = (obj, flags)
            if flags == READ and isinstance(obj, _Channel) and obj.parked():
                parked.add(fd)
        try:
            events = self.poller.poll(int(timeout * 1000))
        except InterruptedError:
            events = []
        for fd, flags in events:
            parked.discard(fd)
            obj = map.get(fd)
            if obj is not None:
                if flags & select.POLLNVAL:
                    log.warning("HTTP server: descriptor %s of %r is not open", fd, obj)
                wasyncore.readwrite(obj, flags)

    def _forget(self, fd: int) -> None:
        self.registered.pop(fd, None)
        self.parked.discard(fd)
        self._unregister(fd)

    def _unregister(self, fd: int) -> None:
        with contextlib.suppress(KeyError, OSError, ValueError):
            self.poller.unregister(fd)


class _Server(TcpWSGIServer):
    channel_class = _Channel
    loop: _Loop | None = None

    def run(self) -> None:
        self.loop = _Loop()
        try:
            self.loop.run(self._map, self.adj.asyncore_loop_timeout)
        except (SystemExit, KeyboardInterrupt):
            self.task_dispatcher.shutdown()

    def maintenance(self, now: float) -> None:
        # waitress closes idle connections after channel_timeout; a client that trickles a
        # request byte by byte is never idle, so a request also has channel_timeout to arrive.
        super().maintenance(now)
        cutoff = now - self.adj.channel_timeout
        for channel in list(self.active_channels.values()):
            if channel.request is not None and channel.request_began < cutoff:
                channel.will_close = True
        if self.loop is not None:
            # Connections told to close must be asked again.
            self.loop.repoll_all = True


class SlackServer:
    """A running waitress server; ``serve_forever`` on a thread, ``drain`` then ``shutdown``."""

    def __init__(self, wsgi: SlackWSGI, **adjustments: Any) -> None:
        self.wsgi = wsgi
        self._map: dict[int, Any] = {}
        self._server = _Server(wsgi, map=self._map, adj=Adjustments(**adjustments))
        self.server_address: tuple[str, int] = (
            str(self._server.effective_host),
            int(self._server.effective_port),
        )
        self._started = False
        self._stopped = threading.Event()

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Serve until ``shutdown``; ``poll_interval`` is unused (waitress wakes on a trigger)."""
        self._started = True
        try:
            self._server.run()
        finally:
            self._stopped.set()

    def stop_accepting(self) -> None:
        """Close the listening socket: new connections are refused, open ones carry on."""
        done = threading.Event()

        def close_listener() -> None:
            if self._server.accepting:
                self._server.accepting = False
                wasyncore.dispatcher.close(self._server)
            done.set()

        self._in_loop(close_listener, done)

    def drain(self, *, timeout: float) -> bool:
        """Wait until every request begun on an open connection is answered and its answer
        sent; True if so within ``timeout`` seconds (call ``stop_accepting`` first)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._idle():
                return True
            time.sleep(0.02)
        return self._idle()

    def _idle(self) -> bool:
        dispatcher = self._server.task_dispatcher
        if dispatcher.queue:
            return False
        for channel in list(self._server.active_channels.values()):
            if channel.request is not None or channel.requests or channel.total_outbufs_len:
                return False
        return True

    def shutdown(self) -> None:
        """Close every connection and stop the loop and its threads."""
        if self._stopped.is_set():
            return
        done = threading.Event()

        def close_all() -> None:
            if self._server.loop is not None:
                self._server.loop.repoll_all = True
            for dispatcher in list(self._map.values()):
                if dispatcher is not self._server.trigger:
                    dispatcher.close()
            done.set()
            self._server.trigger.close()

        if self._started:
            self._in_loop(close_all, done)
            self._stopped.wait(5)
        else:
            close_all()
            self._stopped.set()
        self._server.task_dispatcher.shutdown(timeout=5)

    def server_close(self) -> None:
        """Kept for the ``socketserver`` interface the callers know; ``shutdown`` closed it."""

    def _in_loop(self, thunk: Callable[[], None], done: threading.Event) -> None:
        # The asyncore map belongs to the loop's thread: changes go through its trigger.
        if self._stopped.is_set():
            return
        try:
            self._server.trigger.pull_trigger(thunk)
        except OSError:
            # The trigger's pipe is gone (seen once in the test suite under load): do it from
            # here; the loop notices within its poll timeout.
            log.warning("HTTP server: its loop's trigger is closed; stopping from outside it")
            thunk()
            return
        done.wait(5)


def make_server(
    app: App,
    *,
    signing_secret: str,
    host: str = "0.0.0.0",
    port: int = 3000,
    ready: Readiness | None = None,
    threads: int = 16,
    connection_limit: int = 1000,
    read_timeout: float = 30.0,
) -> SlackServer:
    """Serve ``app`` with waitress: ``threads`` run requests up to their ack; at most
    ``connection_limit`` connections; a request (headers and body) arrives within
    ``read_timeout`` seconds or its connection is closed. ``signing_secret`` (the app's) tells a
    malformed request from Slack (400) from one not from Slack at all (401)."""
    return SlackServer(
        SlackWSGI(app, signing_secret=signing_secret, ready=ready),
        host=host,
        port=port,
        threads=threads,
        connection_limit=connection_limit,
        channel_timeout=read_timeout,
        # How often idle and too-slow connections are looked for.
        cleanup_interval=max(0.5, min(read_timeout / 4, 5.0)),
        max_request_body_size=MAX_BODY,
        max_request_header_size=MAX_HEADERS,
        # poll(), not select(): no 1024-descriptor ceiling under many connections.
        asyncore_use_poll=True,
        ident="crisisbot",
        expose_tracebacks=False,
    )
