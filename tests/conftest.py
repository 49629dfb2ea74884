"""Shared fixtures: an injected clock, settings with short durations, a migrated database."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from bot.db.migrate import upgrade
from bot.db.session import SessionFactory, make_engine, make_session_factory
from sandbox import Emulator, start_emulator
from tests.harness import Bot
from tests.postgres import fresh_database, postgres_server
from tests.support import BOT_TOKEN, SIGNING_SECRET, SLACK_REFERENCE, T0, Clock

__all__ = ["BOT_TOKEN", "SIGNING_SECRET", "SLACK_REFERENCE", "T0", "Clock", "make_settings"]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """A PostgreSQL server for this test session (see tests/postgres.py)."""
    try:
        with postgres_server() as url:
            yield url
    except (FileNotFoundError, subprocess.CalledProcessError) as error:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"no PostgreSQL server to test against: {error}")


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite by default; PostgreSQL where the module asks for both databases."""
    kind = getattr(request, "param", "sqlite")
    if kind == "postgresql":
        return fresh_database(request.getfixturevalue("postgres_admin_url"))
    return f"sqlite:///{tmp_path / 'crisisbot.db'}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run a module's database tests on SQLite and PostgreSQL when it sets ``BOTH_DATABASES``."""
    if "database_url" in metafunc.fixturenames and getattr(metafunc.module, "BOTH_DATABASES", 0):
        metafunc.parametrize(
            "database_url",
            ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
            indirect=True,
        )


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


@pytest.fixture
def emulator(clock: Clock) -> Iterator[Emulator]:
    """A fresh local Slack (the Web API emulator) for one test, on the test's clock."""
    with start_emulator() as emulator:
        emulator.workspace.clock = lambda: clock().timestamp()
        yield emulator


@pytest.fixture
def bot(
    settings: Settings, session_factory: SessionFactory, clock: Clock, emulator: Emulator
) -> Iterator[Bot]:
    """crisisbot served over HTTP on loopback, talking to the emulator."""
    bot = Bot(settings=settings, session_factory=session_factory, clock=clock, emulator=emulator)
    yield bot
    bot.close()
