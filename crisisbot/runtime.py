"""Putting the pieces together for a running process."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from apscheduler.schedulers.background import BackgroundScheduler
from slack_bolt import App
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from bot.config import Settings
from bot.db.migrate import current_revision, head_revision, is_current, upgrade
from bot.db.session import make_engine, make_session_factory
from bot.deps import Clock, Deps, system_clock
from bot.slack_gateway import SlackGateway, make_client
from crisisbot.app import build_app
from scheduler.factory import Senders, build_scheduler

log = logging.getLogger(__name__)


class SchemaError(RuntimeError):
    """The database is not at the schema this code needs."""


@dataclass
class Runtime:
    """A configured bot: its app, scheduler and database."""

    deps: Deps
    app: App
    scheduler: BackgroundScheduler
    engine: Engine
    listeners: ThreadPoolExecutor
    senders: Senders

    def close(self, *, wait: bool = True) -> None:
        """Stop the scheduler, its senders and both thread pools, and close the database
        connections."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)
        self.senders.shutdown(wait=wait)
        self.listeners.shutdown(wait=wait)
        self.deps.workers.shutdown(wait=wait)
        self.engine.dispose()


def schema_readiness(engine: Engine) -> Callable[[], str | None]:
    """For ``GET /ready``: None while the database answers and its schema is current."""
    head = head_revision()

    def check() -> str | None:
        # alembic's own look-up logs two lines a call; a probe every few seconds should not.
        try:
            with engine.connect() as connection:
                revisions = connection.execute(text("SELECT version_num FROM alembic_version"))
                revision = revisions.scalar()
        except SQLAlchemyError as error:
            return f"the database does not answer ({type(error).__name__})"
        if revision != head:
            return f"the database schema is at {revision}, this crisisbot needs {head}"
        return None

    return check


def build_runtime(
    settings: Settings, *, clock: Clock = system_clock, migrate: bool = True
) -> Runtime:
    """Migrate the database, then build the app and its scheduler (not started)."""
    if migrate:
        upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    if not is_current(engine):
        raise SchemaError(
            f"the database schema is at {current_revision(engine)}, this crisisbot needs"
            f" {head_revision()}: run `crisisbot db upgrade`"
        )
    client = make_client(
        token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url
    )
    workers = ThreadPoolExecutor(max_workers=settings.worker_threads, thread_name_prefix="work")
    deps = Deps(
        settings=settings,
        session_factory=make_session_factory(engine),
        slack=SlackGateway(client),
        clock=clock,
        workers=workers,
    )
    listeners = ThreadPoolExecutor(max_workers=settings.listener_threads, thread_name_prefix="bolt")
    app = build_app(deps, client=client, listener_executor=listeners)
    senders = Senders.start(deps)
    return Runtime(
        deps=deps,
        app=app,
        scheduler=build_scheduler(deps, senders),
        engine=engine,
        listeners=listeners,
        senders=senders,
    )


def masked(settings: Settings) -> str:
    """The configuration for the start-up log, tokens masked."""
    shown = []
    for name, value in settings.model_dump().items():
        text = str(value)
        if "token" in name or "secret" in name:
            raw = getattr(settings, name)
            secret = raw.get_secret_value() if raw is not None else ""
            text = (secret[:5] + "…") if secret else "(unset)"
        elif name == "database_url" and "@" in text:
            text = text.split("://")[0] + "://…@" + text.split("@", 1)[1]
        shown.append(f"{name}={text}")
    return " ".join(shown)
