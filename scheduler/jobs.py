"""The sweep job: find due reminders in our tables and send each once."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete

from bot.db.models import ProcessedEvent
from bot.deps import Deps
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


def forget_old_events(deps: Deps) -> int:
    """Drop event ids older than Slack's retry window."""
    with deps.session_factory() as session:
        result = session.execute(
            delete(ProcessedEvent).where(ProcessedEvent.at < deps.now() - EVENT_MEMORY)
        )
        session.commit()
        return int(getattr(result, "rowcount", 0) or 0)
