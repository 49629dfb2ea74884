"""The bot (or a bare Bolt app) in its own process, for honest timings and memory figures.

Modes: ``serve`` (crisisbot over HTTP, wired like crisisbot/runtime.py but with a scaled rate
limiter), ``bare`` (a Bolt app that only acks), ``sweep`` (the real scheduler against a seeded
database with an injected clock), ``restart`` (crisisbot/runtime.py as ``crisisbot run`` does it,
until the first sweep) and ``resume`` (the broadcast resume job once, after a SIGKILL). Each
prints one JSON line on stdout; closing stdin ends it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any


def _emit(data: dict[str, Any]) -> None:
    print(json.dumps(data), flush=True)


def _wait_for_stdin_eof() -> None:
    sys.stdin.read()


def _settings(args: argparse.Namespace) -> Any:
    from pydantic import SecretStr

    from bench.common import SIGNING_SECRET, TOKEN
    from bot.config import Settings

    return Settings(
        slack_bot_token=SecretStr(TOKEN),
        slack_signing_secret=SecretStr(SIGNING_SECRET),
        slack_api_url=args.api_url,
        database_url=args.database_url,
        listener_threads=args.listener_threads,
        worker_threads=args.worker_threads,
        tick=timedelta(seconds=args.tick),
    )


def _runtime(args: argparse.Namespace, clock: Any = None, *, migrate: bool = True) -> Any:
    """The bot as ``crisisbot run`` builds it (crisisbot/runtime.py), with Slack's minute scaled to
    ``--window`` as the emulator's is (the way tests/reliability/launcher.py does it)."""
    from bot import ratelimit
    from bot.deps import system_clock
    from crisisbot.runtime import build_runtime

    ratelimit.WINDOW = args.window
    return build_runtime(_settings(args), clock=clock or system_clock, migrate=migrate)


def serve(args: argparse.Namespace) -> None:
    runtime = _runtime(args)
    if args.scheduler:
        runtime.scheduler.start()
    _serve_app(runtime.app)


def bare(args: argparse.Namespace) -> None:
    from slack_bolt import Ack, App
    from slack_sdk import WebClient

    from bench.common import SIGNING_SECRET, TOKEN

    app = App(
        signing_secret=SIGNING_SECRET,
        # Bolt authorizes with one auth.test on the first request, as it does for the bot.
        client=WebClient(token=TOKEN, base_url=args.api_url),
        token_verification_enabled=False,
        # The same pool size as the bot under test, so only the listeners differ.
        listener_executor=ThreadPoolExecutor(max_workers=args.listener_threads),
    )

    @app.command("/crisis")
    def only_ack(ack: Ack) -> None:
        ack()

    _serve_app(app)


def _serve_app(app: Any) -> None:
    from bench.common import SIGNING_SECRET
    from crisisbot.http import make_server

    server = make_server(app, host="127.0.0.1", port=0, signing_secret=SIGNING_SECRET)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _emit({"port": server.server_address[1]})
    _wait_for_stdin_eof()
    # Workers may be parked on the rate limiter with a queue behind them; do not drain it.
    os._exit(0)


def sweep(args: argparse.Namespace) -> None:
    """Run the real APScheduler scheduler over a seeded database until every due row is sent,
    then for ``--idle-ticks`` ticks with nothing due."""
    from sqlalchemy import func, select

    import bot.services.reminders as reminders
    from bot.db.models import Crisis

    t0 = datetime.fromisoformat(args.t0)
    wall0 = time.time()
    # The seeding migrated the database already.
    runtime = _runtime(
        args, clock=lambda: t0 + timedelta(seconds=time.time() - wall0), migrate=False
    )
    deps = runtime.deps
    claims: list[list[float]] = []
    original = reminders.claim_due

    def timed_claim(*args: Any, **kwargs: Any) -> list[int]:
        started = time.time()
        ids: list[int] = original(*args, **kwargs)
        claims.append([started, time.time(), len(ids), *ids])
        return ids

    # Bench-only instrumentation: sweep() looks claim_due up in its module at each call.
    reminders.claim_due = timed_claim
    scheduler = runtime.scheduler
    scheduler.start()
    deadline = time.time() + args.timeout
    while time.time() < deadline:
        with deps.session_factory() as session:
            sent = session.scalar(
                select(func.count()).select_from(Crisis).where(Crisis.heads_up_sent_at.is_not(None))
            )
        if sent is not None and sent >= args.due_count:
            break
        time.sleep(0.5)
    # Nothing is due now (the next reminders are the overdue ones, minutes away): measure idle.
    time.sleep(args.tick)
    cpu_before, wall_before = _cpu(), time.time()
    sweeps_before = len(claims)
    time.sleep(args.tick * args.idle_ticks)
    cpu_after, wall_after = _cpu(), time.time()
    scheduler.shutdown(wait=False)
    _emit(
        {
            "wall0": wall0,
            "claims": claims,
            "idle_cpu": cpu_after - cpu_before,
            "idle_wall": wall_after - wall_before,
            "idle_sweeps": len(claims) - sweeps_before,
            "rss_peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        }
    )
    os._exit(0)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def restart(args: argparse.Namespace) -> None:
    """Start as ``crisisbot run`` does (migrations included) and report the first sweep."""
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED

    from crisisbot.runtime import build_runtime

    runtime = build_runtime(_settings(args))
    built = time.time()
    marks: dict[str, float] = {}
    finished = threading.Event()

    def on_event(event: Any) -> None:
        if event.job_id != "sweep":
            return
        marks.setdefault("sweep_done", time.time())
        marks["sweep_failed"] = float(event.code == EVENT_JOB_ERROR)
        finished.set()

    runtime.scheduler.add_listener(on_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    runtime.scheduler.start()
    finished.wait(60)
    runtime.scheduler.shutdown(wait=False)
    _emit({"built": built, **marks})
    os._exit(0)


def resume(args: argparse.Namespace) -> None:
    """A new process after a SIGKILL: the resume job once, its clock past the dead process's
    lease (``CRISISBOT_LEASE``; the scheduler runs the job every tick); how long it took."""
    from bot.deps import system_clock
    from scheduler import jobs

    settings = _settings(args)
    ahead = settings.lease + settings.tick
    runtime = _runtime(args, clock=lambda: system_clock() + ahead, migrate=False)
    started = time.time()
    resumed = jobs.resume_broadcasts(runtime.deps)
    _emit({"resumed": resumed, "seconds": time.time() - started})
    os._exit(0)


def _default(setting: str) -> int:
    from bot.config import Settings

    return int(Settings.model_fields[setting].default)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.botproc")
    parser.add_argument("mode", choices=["serve", "bare", "sweep", "restart", "resume"])
    parser.add_argument("--database-url", default="sqlite://")
    parser.add_argument("--api-url", default="http://127.0.0.1:9/api/")
    parser.add_argument("--window", type=float, default=60.0, help="rate-limit minute, seconds")
    # The bot's own defaults, so the benchmarks measure what a deployment runs.
    parser.add_argument("--listener-threads", type=int, default=_default("listener_threads"))
    parser.add_argument("--worker-threads", type=int, default=_default("worker_threads"))
    parser.add_argument("--tick", type=float, default=5.0)
    parser.add_argument("--scheduler", action="store_true", help="serve: run the scheduler too")
    parser.add_argument("--t0", default="2030-01-01T00:00:00+00:00", help="sweep: clock zero")
    parser.add_argument("--due-count", type=int, default=0)
    parser.add_argument("--idle-ticks", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=240.0)
    args = parser.parse_args()
    modes = {"serve": serve, "bare": bare, "sweep": sweep, "restart": restart, "resume": resume}
    modes[args.mode](args)


if __name__ == "__main__":
    main()
