"""Fixtures: one emulator server per session, reset before every test; a fake app URL."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox import Emulator, start_emulator

TOKEN = "xoxb-sandbox"
SECRET = "inbound-test-secret"


@pytest.fixture(scope="session")
def _server() -> Iterator[Emulator]:
    with start_emulator(token=TOKEN) as emulator:
        yield emulator


@pytest.fixture
def emu(_server: Emulator) -> Emulator:
    """A running emulator with the freshly seeded workspace."""
    _server.reset()
    return _server


@pytest.fixture
def client(emu: Emulator) -> WebClient:
    """A real slack_sdk client talking to the emulator over HTTP."""
    return WebClient(base_url=emu.api_url, token=TOKEN)


@pytest.fixture
def slack_error() -> Callable[..., str]:
    """Call a WebClient method that must fail and return Slack's error code."""

    def call(fn: Callable[..., Any], **kwargs: Any) -> str:
        with pytest.raises(SlackApiError) as info:
            fn(**kwargs)
        return str(info.value.response["error"])

    return call


@dataclass
class Received:
    headers: dict[str, str]
    body: str

    def form(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.body).items()}

    def payload(self) -> dict[str, Any]:
        return dict(json.loads(self.form()["payload"]))

    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class FakeApp:
    """A request URL that records what arrives and answers as told (status, delay, body)."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    answers: list[tuple[int, float, str]] = field(default_factory=list)
    default: tuple[int, float, str] = (200, 0.0, "")

    def next_answer(self) -> tuple[int, float, str]:
        return self.answers.pop(0) if self.answers else self.default


@pytest.fixture
def app() -> Iterator[FakeApp]:
    fake = FakeApp()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            fake.received.append(Received(dict(self.headers.items()), body))
            status, delay, answer = fake.next_answer()
            time.sleep(delay)
            data = answer.encode()
            try:
                self.send_response(status)
                ctype = "application/json" if answer.startswith("{") else "text/plain"
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the sandbox gave up waiting, as Slack does

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/slack/events"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()
    thread.join()
