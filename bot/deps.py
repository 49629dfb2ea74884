"""What every listener and job needs, built once at start and passed explicitly."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from slack_bolt import BoltContext
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db.session import SessionFactory
from bot.services.leases import Claims
from bot.services.scope import Scope
from bot.slack_gateway import SlackGateway

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
DEPS_KEY = "crisisbot"


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Deps:
    """Settings, database, Slack gateway, the clock (injected, so tests control time) and the
    worker pool that does the Slack work after a listener has acked."""

    settings: Settings
    session_factory: SessionFactory
    slack: SlackGateway
    clock: Clock = system_clock
    workers: Executor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=16, thread_name_prefix="work")
    )
    # This process's token and the crises it is working on (their leases are renewed).
    claims: Claims = field(default_factory=Claims)

    def now(self) -> datetime:
        return self.clock()

    def scope(self, session: Session, *, team_id: str = "") -> Scope:
        """What a crisis service works with: this session, Slack, the settings, now, and the
        workspace the work is for."""
        return Scope(
            session=session,
            slack=self.slack,
            settings=self.settings,
            now=self.now(),
            team_id=team_id,
            claims=self.claims,
        )

    def later(self, work: Callable[[], object]) -> None:
        """Run ``work`` off the ack path, so a slow Slack never delays the next ack."""
        self.workers.submit(work).add_done_callback(_log_failure)


def _log_failure(future: Future[object]) -> None:
    error = future.exception()
    if error is not None:
        log.error("background work failed", exc_info=error)


def deps_of(context: BoltContext) -> Deps:
    """The dependencies a listener was given (set by the app's first middleware)."""
    deps = context[DEPS_KEY]
    assert isinstance(deps, Deps)
    return deps
