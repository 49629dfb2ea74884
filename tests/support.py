"""Constants and helpers the tests share (kept apart from conftest to avoid import cycles)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

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
