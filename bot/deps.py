"""What every listener and job needs, built once at start and passed explicitly."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from slack_bolt import BoltContext
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db.session import SessionFactory
from bot.db.tenancy import for_team
from bot.services.leases import Claims
from bot.services.scope import Scope
from bot.slack_gateway import Gateways, SlackGateway

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
DEPS_KEY = "crisisbot"


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Deps:
    """Settings, database, Slack gateway, the clock (injected, so tests control time) and the
    worker pool that does the Slack work after a listener has acked.

    Installed in many workspaces (OAuth), ``gateways`` holds one gateway per workspace and a
    request's listeners get ``for_team(its team)``: that workspace's gateway, sessions that
    see only its rows, and scopes for it. A single-workspace bot has no ``gateways``, works
    in team ""."""

    settings: Settings
    session_factory: SessionFactory
    slack: SlackGateway
    clock: Clock = system_clock
    workers: Executor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=16, thread_name_prefix="work")
    )
    gateways: Gateways | None = None
    team_id: str = ""

    @property
    def many_workspaces(self) -> bool:
        return self.gateways is not None

    def for_team(self, team_id: str) -> Deps:
        """These deps for the work of one workspace (itself for a single-workspace bot)."""
        if self.gateways is None:
            return self
        return replace(
            self,
            slack=self.gateways.for_team(team_id),
            session_factory=for_team(self.session_factory, team_id),
            team_id=team_id,
        )

    def slack_for(self, team_id: str) -> SlackGateway:
        """The gateway that speaks for ``team_id``."""
        return self.gateways.for_team(team_id) if self.gateways is not None else self.slack

    # This process's token and the crises it is working on (their leases are renewed).
    claims: Claims = field(default_factory=Claims)

    def now(self) -> datetime:
        return self.clock()

    def scope(self, session: Session, *, team_id: str | None = None) -> Scope:
        """What a crisis service works with: this session, Slack, the settings, now, and the
        workspace the work is for (these deps' own, unless named)."""
        return Scope(
            session=session,
            slack=self.slack,
            settings=self.settings,
            now=self.now(),
            team_id=self.team_id if team_id is None else team_id,
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
