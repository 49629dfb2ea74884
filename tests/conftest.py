"""Shared fixtures: an injected clock, settings with short durations, a migrated database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from bot.db.migrate import upgrade
from bot.db.session import SessionFactory, make_engine, make_session_factory

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


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'crisisbot.db'}"


@pytest.fixture
def session_factory(database_url: str) -> Iterator[SessionFactory]:
    upgrade(database_url)
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


def make_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "database_url": "sqlite://",
        "cadence_sev1": "30m",
        "cadence_sev2": "1h",
        "reminder_lead": "10m",
        "nag_every": "10m",
        "escalate_after": "30m",
        "follow_up": "3d",
        "snooze": "15m",
        "tick": "5s",
        "announce_channel": None,
        "escalation_channel": None,
    }
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture
def settings() -> Settings:
    return make_settings()
