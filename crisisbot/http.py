"""A small threaded HTTP server for Slack's requests at ``/slack/events``, plus ``/health``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from slack_bolt import App, BoltRequest, BoltResponse

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
MAX_BODY = 1_000_000


def make_server(app: App, *, host: str = "0.0.0.0", port: int = 3000) -> ThreadingHTTPServer:
    """Serve ``app``; each request on its own thread so one slow client never delays an ack."""

    class SlackRequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            log.debug("%s " + format, self.address_string(), *args)

        def do_GET(self) -> None:
            path, _, query = self.path.partition("?")
            flow = app.oauth_flow
            if path == "/health":
                self._send(200, b"ok", "text/plain")
            elif flow is not None and path in (flow.install_path, flow.redirect_uri_path):
                # Installed in many workspaces: Bolt's OAuth flow (the install page, then
                # Slack's redirect back with a code), as Bolt's own adapters serve it.
                request = BoltRequest(body="", query=query, headers=self._headers())
                if path == flow.install_path:
                    response = flow.handle_installation(request)
                else:
                    response = flow.handle_callback(request)
                self._reply(response)
            else:
                self._send(404, b"not found", "text/plain")

        def do_POST(self) -> None:
            path, _, query = self.path.partition("?")
            if path != EVENTS_PATH:
                self._send(404, b"not found", "text/plain")
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._send(413, b"too large", "text/plain")
                return
            body = self.rfile.read(length).decode("utf-8")
            self._reply(app.dispatch(BoltRequest(body=body, query=query, headers=self._headers())))

        def _headers(self) -> dict[str, str | Sequence[str]]:
            return {k.lower(): [v] for k, v in self.headers.items()}

        def _reply(self, response: BoltResponse) -> None:
            content_type = (response.headers.get("content-type") or ["text/plain"])[0]
            extra = [
                (name, value)
                for name, values in response.headers.items()
                if name.lower() in ("location", "set-cookie")
                for value in values
            ]
            self._send(response.status, response.body.encode("utf-8"), content_type, extra)

        def _send(
            self,
            status: int,
            payload: bytes,
            content_type: str,
            extra: Sequence[tuple[str, str]] = (),
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in extra:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer((host, port), SlackRequestHandler)
    server.daemon_threads = True
    return server
