"""What every listener and job needs, built once at start and passed explicitly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from slack_bolt import BoltContext

from bot.config import Settings
from bot.db.session import SessionFactory
from bot.slack_gateway import SlackGateway

Clock = Callable[[], datetime]
DEPS_KEY = "crisisbot"


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Deps:
    """Settings, database, Slack gateway and the clock (injected, so tests control time)."""

    settings: Settings
    session_factory: SessionFactory
    slack: SlackGateway
    clock: Clock = system_clock

    def now(self) -> datetime:
        return self.clock()


def deps_of(context: BoltContext) -> Deps:
    """The dependencies a listener was given (set by the app's first middleware)."""
    deps = context[DEPS_KEY]
    assert isinstance(deps, Deps)
    return deps
