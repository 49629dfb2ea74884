"""One APScheduler per process, ticking the sweep every ``CRISISBOT_TICK``."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from bot.deps import Deps
from scheduler import jobs

SENDER_THREADS = 32


def build_scheduler(deps: Deps) -> BackgroundScheduler:
    """A scheduler whose first sweep runs at once, so what fell due while down goes out."""
    scheduler = BackgroundScheduler(timezone="UTC")
    # APScheduler ticks on the wall clock; what is due is decided by deps.now() in the sweep.
    started = datetime.now(UTC)
    # Reminders due together go out together, each on its own thread (and DB session).
    senders = ThreadPoolExecutor(max_workers=SENDER_THREADS, thread_name_prefix="sweep")
    scheduler.add_job(
        jobs.sweep_due,
        "interval",
        args=[deps, senders],
        seconds=deps.settings.tick.total_seconds(),
        next_run_time=started,
        id="sweep",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
    )
    scheduler.add_job(
        jobs.forget_old_events,
        "interval",
        args=[deps],
        hours=6,
        id="forget_old_events",
        next_run_time=started + timedelta(minutes=1),
    )
    return scheduler
