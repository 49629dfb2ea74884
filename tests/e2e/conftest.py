"""The whole sandbox (emulator, page, real bot, SQLite) on free loopback ports; the bot
serves HTTP, or is connected over Socket Mode (each test that uses `sandbox` runs both)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crisisbot.sandbox import Sandbox
from tests.support import Clock


@pytest.fixture(params=["http", "socket_mode"])
def transport(request: pytest.FixtureRequest) -> str:
    """How Slack reaches the bot: its request URL, or its Socket Mode connection."""
    return str(request.param)


@pytest.fixture
def sandbox(clock: Clock, tmp_path: Path, transport: str) -> Iterator[Sandbox]:
    """The bot's clock is injected and its scheduler left off: tests sweep by hand."""
    with Sandbox(
        clock=clock,
        run_scheduler=False,
        database_url=f"sqlite:///{tmp_path / 'sandbox.db'}",
        retry_delays=(0.0, 0.05, 0.1),
        socket_mode=transport == "socket_mode",
    ) as running:
        yield running


class Person:
    """Someone using the sandbox page, through its HTTP API."""

    def __init__(self, sandbox: Sandbox, user: str) -> None:
        self.sandbox = sandbox
        self.user = user

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            self.sandbox.emulator.url + path,
            json.dumps({"user": self.user, **body}).encode(),
            {"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return dict(json.loads(response.read()))

    def types(self, text: str, channel: str) -> dict[str, Any]:
        """Type into the composer: /commands go to the app, the rest is a message."""
        path = "/sandbox/command" if text.startswith("/") else "/sandbox/post"
        return self._post(path, {"channel": channel, "text": text})

    def reacts(self, name: str, channel: str, ts: str) -> dict[str, Any]:
        return self._post("/sandbox/react", {"channel": channel, "ts": ts, "name": name})

    def clicks(self, channel: str, ts: str, block_id: str, action_id: str) -> dict[str, Any]:
        body = {"channel": channel, "ts": ts, "block_id": block_id, "action_id": action_id}
        return self._post("/sandbox/action", body)

    def submits(self, view_id: str, values: dict[str, Any]) -> dict[str, Any]:
        return self._post("/sandbox/submit", {"view_id": view_id, "values": values})
