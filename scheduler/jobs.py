"""The sweep job: find due reminders in our tables and send each once."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete, select

from bot.db.models import ProcessedEvent, Workspace
from bot.deps import Deps
from bot.services import outages
from bot.services.digest import send_due_digest
from bot.services.reminders import Sent
from scheduler import senders as pipeline

log = logging.getLogger(__name__)

# Slack stops retrying an event within minutes; two days of ids is plenty to dedupe.
EVENT_MEMORY = timedelta(days=2)


def sweep_due(deps: Deps, senders: pipeline.Senders | None = None) -> list[Sent]:
    """One tick: claim what is due now and hand it to the senders; returns what was sent.

    The scheduler passes the process's sender threads, so a tick never waits for the last
    tick's Web API calls. Without ``senders`` the same pipeline runs inline and the sweep
    returns done. Safe in several processes at once: the sweep claims its work in the database.
    """
    return pipeline.sweep(deps, senders or pipeline.Senders.inline(deps))


def each_workspace(deps: Deps) -> list[Deps]:
    """The deps of every workspace the bot works for: itself for a single-workspace bot, else
    one per installed workspace (its gateway, sessions that see only its rows)."""
    if not deps.many_workspaces:
        return [deps]
    with deps.session_factory() as session:
        teams = session.scalars(select(Workspace.team_id).where(Workspace.uninstalled_at.is_(None)))
        return [deps.for_team(team) for team in teams]


def resume_broadcasts(deps: Deps) -> int:
    """Finish the outage broadcasts whose sender's lease has run out (a crash cut them off)
    or was given back, in every workspace, without posting any customer's twice; how many
    this process took over. Cheap when there are none: one query, every tick."""
    with deps.session_factory() as session:
        due = outages.broadcasts_to_resume(session, now=deps.now())
    if not due:
        return 0
    teams = {team.team_id: team for team in each_workspace(deps)}
    resumed = 0
    for team_id, broadcast_id in due:
        team = teams.get(team_id)
        if team is None:
            continue  # uninstalled: nobody to speak for it
        # A scope per broadcast: each is claimed at the time it is taken over.
        with team.session_factory() as session:
            resumed += outages.resume_broadcast(
                team.scope(session), broadcast_id=broadcast_id, session_factory=team.session_factory
            )
    return resumed


def post_weekly_digest(deps: Deps) -> str | None:
    """Post the weekly digest if it is due and nobody has (safe in several processes: the
    digest is claimed in the database); the week posted, or None. A bot installed in many
    workspaces posts none: one ``CRISISBOT_REPORT_CHANNEL`` cannot name a channel in each."""
    if deps.many_workspaces:
        return None
    return send_due_digest(
        session_factory=deps.session_factory,
        slack=deps.slack,
        settings=deps.settings,
        now=deps.now(),
        claims=deps.claims,
    )


def forget_old_events(deps: Deps) -> int:
    """Drop event ids older than Slack's retry window."""
    with deps.session_factory() as session:
        result = session.execute(
            delete(ProcessedEvent).where(ProcessedEvent.at < deps.now() - EVENT_MEMORY)
        )
        session.commit()
        return int(getattr(result, "rowcount", 0) or 0)
