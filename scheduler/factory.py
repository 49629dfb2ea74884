"""One APScheduler per process, ticking the sweep every ``CRISISBOT_TICK``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from bot.deps import Deps
from scheduler import jobs
from scheduler.senders import Senders


def build_scheduler(deps: Deps, senders: Senders) -> BackgroundScheduler:
    """A scheduler whose first sweep runs at once, so what fell due while down goes out."""
    scheduler = BackgroundScheduler(timezone="UTC")
    # APScheduler ticks on the wall clock; what is due is decided by deps.now() in the sweep.
    started = datetime.now(UTC)
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
    # Every tick (one look-up of the week's row), and at once: a digest missed while every
    # replica was down goes out now, and one whose poster died is taken over within a lease
    # and a tick.
    scheduler.add_job(
        jobs.post_weekly_digest,
        "interval",
        args=[deps],
        seconds=deps.settings.tick.total_seconds(),
        next_run_time=started,
        id="post_weekly_digest",
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
    # A broadcast whose sender's lease ran out (a crash cut it off) is finished, each
    # customer's message looked for first: on the sweep's tick, so within a lease and a tick.
    # Its own job, so a long resumed broadcast never holds up the sweep.
    scheduler.add_job(
        jobs.resume_broadcasts,
        "interval",
        args=[deps],
        seconds=deps.settings.tick.total_seconds(),
        id="resume_broadcasts",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
        next_run_time=started,
    )
    return scheduler
