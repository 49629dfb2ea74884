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

from bot.budget import SharedRateLimiter, budget_engine
from bot.config import Settings
from bot.db.migrate import current_revision, head_revision, is_current, upgrade
from bot.db.session import make_engine, make_session_factory
from bot.deps import Clock, Deps, system_clock
from bot.ratelimit import RateLimiter
from bot.slack_gateway import SlackGateway, make_client
from crisisbot import oauth
from crisisbot.app import build_app
from scheduler.factory import build_scheduler
from scheduler.heartbeat import Heartbeat
from scheduler.senders import Senders, release_claims

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
    heartbeat: Heartbeat

    def close(self, *, wait: bool = True) -> None:
        """Stop the scheduler, its senders and both thread pools; then give back the claims
        this process still holds (sends not started, work cut short, a broadcast stopped
        before its next message), so another replica takes them at once instead of after the
        lease; then close the database connections.

        The heartbeat renews the leases until the work under way has finished. With
        ``wait=False`` nothing is given back (work may still be running): the leases run out.
        """
        self.senders.stop_starting()
        self.deps.claims.stop_starting()  # a broadcast under way stops before its next message
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)
        self.senders.shutdown(wait=wait)
        self.listeners.shutdown(wait=wait)
        self.deps.workers.shutdown(wait=wait)
        if wait:
            try:
                release_claims(self.deps)
            except Exception:
                log.exception("could not give back this process's claims; their leases run out")
        self.heartbeat.stop()
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
    # Installed in many workspaces, each request and each crisis speaks with its workspace's
    # own token; otherwise with the one SLACK_BOT_TOKEN.
    token = None if settings.oauth else settings.slack_bot_token.get_secret_value()
    retry_for = settings.slack_retry_for.total_seconds()
    client = make_client(token=token, base_url=settings.slack_api_url, retry_for=retry_for)
    workers = ThreadPoolExecutor(max_workers=settings.worker_threads, thread_name_prefix="work")
    session_factory = make_session_factory(engine)
    budget = budget_engine(settings.database_url) if engine.dialect.name == "postgresql" else None
    if budget is not None:
        # Replicas share one database: they share Slack's per-workspace budget through it.
        log.info("Slack rate budget: shared by every replica through the database")

    def limiter_for(team_id: Callable[[], str]) -> RateLimiter:
        if budget is None:
            return RateLimiter()
        return SharedRateLimiter(engine=budget, team_id=team_id)

    gateway = SlackGateway(client, limiter=limiter_for(lambda: gateway.team_id))
    store = oauth.installation_store(settings, engine) if settings.oauth else None
    gateways = (
        oauth.gateways(
            settings, store, limiter_for=lambda team: limiter_for(lambda: team), retry_for=retry_for
        )
        if store is not None
        else None
    )
    deps = Deps(
        settings=settings,
        session_factory=session_factory,
        slack=gateway,
        clock=clock,
        workers=workers,
        gateways=gateways,
    )
    listeners = ThreadPoolExecutor(max_workers=settings.listener_threads, thread_name_prefix="bolt")
    flow = None
    if store is not None and gateways is not None:
        flow = oauth.oauth_settings(
            settings,
            engine=engine,
            store=store,
            gateways=gateways,
            session_factory=session_factory,
            clock=clock,
        )
    app = build_app(deps, client=client, listener_executor=listeners, oauth_settings=flow)
    senders = Senders.start(deps)
    log.info("claiming work as %s", deps.claims.token)
    heartbeat = Heartbeat(deps)
    heartbeat.start()
    return Runtime(
        deps=deps,
        app=app,
        scheduler=build_scheduler(deps, senders),
        engine=engine,
        listeners=listeners,
        senders=senders,
        heartbeat=heartbeat,
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
