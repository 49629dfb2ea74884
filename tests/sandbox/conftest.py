"""Fixtures: one emulator server per session, reset before every test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox import Emulator, start_emulator

TOKEN = "xoxb-sandbox"


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
