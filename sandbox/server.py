"""HTTP front end: /api/<method>, POST /response/<id>, and the page (when one is attached)."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

# Form fields that carry JSON; slack_sdk and Bolt send them as JSON strings in form bodies.
JSON_FORM_FIELDS = {"blocks", "attachments", "view", "metadata", "files"}


@dataclass
class PageReply:
    """An answer from the page: a whole body, or a `stream` fed with a write function."""

    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    # Called with write(data) -> bool (False once the client has gone) for Server-Sent Events.
    stream: Callable[[Callable[[bytes], bool]], None] | None = None


@dataclass
class Reply:
    """An HTTP answer: status, JSON body and extra headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class Page(Protocol):
    """Serves everything outside /api/ and /response/ (the sandbox's Slack look-alike)."""

    def handle(self, method: str, path: str, query: str, body: bytes) -> PageReply | None:
        """Answer the request, or None for 404."""


class Backend(Protocol):
    """What the HTTP front end serves: the Web API, response URLs and, optionally, a page."""

    page: Page | None

    def handle_api(
        self, method: str, args: dict[str, Any], token: str | None, basic: str | None = None
    ) -> Reply:
        """Answer one Web API call (``basic``: an HTTP Basic credential, base64)."""

    def handle_authorize(self, query: str) -> tuple[int, dict[str, str], str]:
        """Answer GET /oauth/v2/authorize: (status, headers, text)."""

    def handle_response_url(self, url_id: str, body: dict[str, Any]) -> tuple[int, str]:
        """Answer a POST to a response URL."""

    def handle_upload(self, upload_id: str, content: bytes) -> tuple[int, str]:
        """Answer the POST of a file's bytes to an upload URL."""

    def handle_file(self, team_and_file: str) -> tuple[bytes, str] | None:
        """A file's bytes and type for its ``url_private``, or None."""


class BodyError(Exception):
    """The request body could not be read as Slack would read it."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def parse_form(raw: str) -> dict[str, Any]:
    """Decode an urlencoded body or query; JSON-valued fields are decoded when well-formed."""
    args: dict[str, Any] = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
    for key in JSON_FORM_FIELDS & args.keys():
        value = args[key]
        if isinstance(value, str) and value[:1] in ("[", "{"):
            # Bad JSON stays a string, so the method answers with its own format error.
            with contextlib.suppress(json.JSONDecodeError):
                args[key] = json.loads(value)
    return args


class _Handler(BaseHTTPRequestHandler):
    server: EmulatorHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        body = self._body()
        backend = self.server.backend
        if parts.path.startswith("/api/"):
            method = parts.path[len("/api/") :]
            try:
                args, json_body = self._args(parts.query, body)
            except BodyError as exc:
                self._send_json(200, {"ok": False, "error": exc.error})
                return
            token = self._bearer()
            # Slack ignores a token inside a JSON body: it must come in the header.
            form_token = None if json_body else args.pop("token", None)
            args.pop("token", None)
            reply = backend.handle_api(method, args, token or form_token, self._basic())
            if reply.status == 0:
                # A dropped connection (sandbox.faults.DROP): close it without an answer.
                self.close_connection = True
                return
            self._send_json(reply.status, reply.body, reply.headers)
        elif parts.path == "/oauth/v2/authorize":
            status, headers, text = backend.handle_authorize(parts.query)
            data = text.encode("utf-8")
            self._send(status, data, "text/plain; charset=utf-8", headers)
        elif parts.path.startswith("/response/"):
            try:
                args, _ = self._args("", body)
            except BodyError:
                self._send_text(400, "invalid_payload")
                return
            if isinstance(args.get("payload"), str):
                try:
                    args = json.loads(args["payload"])
                except json.JSONDecodeError:
                    self._send_text(400, "invalid_payload")
                    return
            status, text = backend.handle_response_url(parts.path[len("/response/") :], args)
            self._send_text(status, text)
        elif parts.path.startswith("/upload/v1/") and self.command == "POST":
            status, text = backend.handle_upload(parts.path[len("/upload/v1/") :], body)
            self._send_text(status, text)
        elif parts.path.startswith("/files-pri/") and self.command == "GET":
            found = backend.handle_file(parts.path[len("/files-pri/") :].split("/")[0])
            if found is None:
                self._send_text(404, "not_found")
            else:
                self._send(200, found[0], found[1], {})
        else:
            page = backend.page
            answer = page.handle(self.command, parts.path, parts.query, body) if page else None
            if answer is None:
                self._send_text(404, "not_found")
            elif answer.stream is not None:
                self._stream(answer)
            else:
                self._send(answer.status, answer.body, answer.content_type, {})

    def _args(self, query: str, body: bytes) -> tuple[dict[str, Any], bool]:
        args = parse_form(query)
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype == "application/json" and body:
            try:
                data = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise BodyError("invalid_json") from None
            if not isinstance(data, dict):
                raise BodyError("json_not_object")
            args.update(data)
            return args, True
        if body:
            if ctype not in ("", "application/x-www-form-urlencoded"):
                raise BodyError("invalid_form_data")
            try:
                args.update(parse_form(body.decode("utf-8")))
            except UnicodeDecodeError:
                raise BodyError("invalid_charset") from None
        return args, False

    def _basic(self) -> str | None:
        auth = self.headers.get("Authorization") or ""
        scheme, _, value = auth.partition(" ")
        return value.strip() if scheme.lower() == "basic" and value.strip() else None

    def _bearer(self) -> str | None:
        auth = self.headers.get("Authorization") or ""
        scheme, _, value = auth.partition(" ")
        return value.strip() if scheme.lower() == "bearer" and value.strip() else None

    def _stream(self, reply: PageReply) -> None:
        assert reply.stream is not None
        self.close_connection = True
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()

        def write(data: bytes) -> bool:
            try:
                self.wfile.write(data)
                self.wfile.flush()
            except OSError:
                return False
            return True

        reply.stream(write)

    def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode("utf-8")
        self._send(status, data, "application/json; charset=utf-8", headers or {})

    def _send_text(self, status: int, text: str) -> None:
        self._send(status, text.encode("utf-8"), "text/plain; charset=utf-8", {})

    def _send(self, status: int, data: bytes, ctype: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)


class EmulatorHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server bound to one Emulator."""

    daemon_threads = True
    # Slack takes many connections at once; the default backlog of 5 would drop the rest,
    # and their retransmitted SYNs arrive seconds late.
    request_queue_size = 128

    def __init__(self, backend: Backend, host: str, port: int) -> None:
        self.backend = backend
        super().__init__((host, port), _Handler)


def serve(backend: Backend, host: str = "127.0.0.1", port: int = 0) -> EmulatorHTTPServer:
    """Start serving in a daemon thread and return the server (its port is server_port)."""
    server = EmulatorHTTPServer(backend, host, port)
    # A short poll interval keeps stop() fast; tests start and stop many emulators.
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="slack-sandbox",
        daemon=True,
    )
    thread.start()
    return server
