"""Constants and helpers the tests share (kept apart from conftest to avoid import cycles)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.slack_retry import RetryTime

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SLACK_REFERENCE = SHARED / "slack"
SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-sandbox"
T0 = datetime(2026, 11, 22, 14, 0, tzinfo=UTC)


class Clock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime = T0) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> datetime:
        self.current += timedelta(**kwargs)
        return self.current


class FastRetryTime(RetryTime):
    """The Web API retries' time, a hundred times faster: a wait of ``d`` sleeps ``d / 100``
    and moves this clock the whole ``d``, so a 10-minute retry budget runs out in seconds
    while the emulator's real-time windows (Retry-After) still pass between tries."""

    SCALE = 0.01

    def __init__(self) -> None:
        # Per thread: one call's retries run on one thread, and must not age another's.
        self._offset = threading.local()
        super().__init__(clock=self._clock, sleep=self._sleep)

    def _clock(self) -> float:
        return time.monotonic() + getattr(self._offset, "seconds", 0.0)

    def _sleep(self, seconds: float) -> None:
        time.sleep(seconds * self.SCALE)
        skipped = getattr(self._offset, "seconds", 0.0) + seconds * (1 - self.SCALE)
        self._offset.seconds = skipped


def event_envelope(event: dict[str, Any], *, event_id: str) -> dict[str, Any]:
    """The Events API ``event_callback`` envelope Slack wraps ``event`` in."""
    return {
        "token": "legacy",
        "team_id": "T0CRISIS",
        "api_app_id": "A0CRISIS",
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [{"team_id": "T0CRISIS", "user_id": "U0BOT", "is_bot": True}],
        "event": event,
    }


def reaction_added(name: str, *, user: str, channel: str, ts: str) -> dict[str, Any]:
    """The ``reaction_added`` event for ``user`` reacting ``name`` to the bot's message."""
    return {
        "type": "reaction_added",
        "user": user,
        "reaction": name,
        "item": {"type": "message", "channel": channel, "ts": ts},
        "item_user": "U0BOT",
        "event_ts": str(time.time()),
    }
