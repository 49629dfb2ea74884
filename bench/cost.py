"""#5 Cost of a crisis: Web API calls and database queries per declare, update, nag and close."""

from __future__ import annotations

import tempfile
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import event, select

from bench.common import Result
from bot.config import Settings
from bot.db.migrate import upgrade
from bot.db.models import Crisis
from bot.db.session import make_engine, make_session_factory
from bot.deps import Deps
from sandbox import start_emulator
from tests.harness import Bot
from tests.support import BOT_TOKEN, SIGNING_SECRET, Clock


def run(*, quick: bool) -> Result:
    del quick  # one crisis either way
    result = Result(
        "5 cost of a crisis",
        "one sev2 crisis through its life in-process (listeners inline), emulator as Slack; "
        "queries counted with a before_cursor_execute listener",
    )
    emulator = start_emulator()
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='crisisbot-bench-cost-'))}/bot.db"
    upgrade(url)
    engine = make_engine(url)
    statements: Counter[str] = Counter()
    lock = threading.Lock()

    @event.listens_for(engine, "before_cursor_execute")
    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        with lock:
            statements[statement.split(None, 1)[0].upper()] += 1

    clock = Clock(datetime(2030, 1, 2, 9, 0, tzinfo=UTC))
    settings = Settings(
        slack_bot_token=SecretStr(BOT_TOKEN),
        slack_signing_secret=SecretStr(SIGNING_SECRET),
        slack_api_url=emulator.api_url,
        database_url=url,
    )
    # The bot as the listener tests drive it: listeners inline, so each step's calls and
    # queries are all counted before it returns.
    bot = Bot(
        settings=settings,
        session_factory=make_session_factory(engine),
        clock=clock,
        emulator=emulator,
    )
    deps = bot.deps

    def command(text: str, channel: str = "C0GENERAL") -> None:
        assert bot.command(text, channel=channel).status == 200

    def measure(step: str, action: Callable[[], object]) -> None:
        emulator.clear_calls()
        with lock:
            statements.clear()
        action()
        calls = emulator.calls
        with lock:
            queries = sum(statements.values())
            kinds = ", ".join(f"{k} {v}" for k, v in statements.most_common())
        methods = Counter(c.method for c in calls)
        result.add(
            f"{step}: Web API calls",
            str(len(calls)),
            "≤ 7" if step == "declare" else "",
            len(calls) <= 7 if step == "declare" else None,
        )
        result.add(f"{step}: database statements", str(queries))
        result.notes.append(
            f"{step}: "
            + ", ".join(f"{m} {n}" for m, n in sorted(methods.items()))
            + f"; SQL: {kinds}"
        )

    try:
        # The declarer's one-time lookup (users.info) is paid here, not by the measured declare.
        # Closed at once, so its reminders do not fall due with the measured crisis's.
        command("new Warmup: first request pays the one-time lookups sev2")
        command("close warm-up done", _channel_of(deps, "Warmup"))
        measure("declare", lambda: command("new Acme: dashboards are empty sev2"))
        channel = _channel_of(deps, "Acme")
        measure("update", lambda: command("update restarted the ingest, watching", channel))
        with deps.session_factory() as session:
            crisis = session.scalars(select(Crisis).where(Crisis.channel_id == channel)).one()
            assert crisis.next_update_due_at is not None
            due = crisis.next_update_due_at

        def sweep_at(moment: datetime) -> Callable[[], object]:
            def go() -> object:
                clock.current = moment
                return bot.sweep()

            return go

        measure("nag: heads-up", sweep_at(due - settings.reminder_lead))
        measure("nag: first overdue", sweep_at(due + timedelta(seconds=1)))
        measure("nag: repeat overdue", sweep_at(due + settings.nag_every + timedelta(seconds=2)))
        measure(
            "idle sweep, nothing due", sweep_at(due + settings.nag_every + timedelta(seconds=3))
        )
        measure("close", lambda: command("close ingest fixed, customer confirmed", channel))
    finally:
        bot.close()
        emulator.stop()
        engine.dispose()
    return result


def _channel_of(deps: Deps, customer: str) -> str:
    with deps.session_factory() as session:
        crisis = session.scalars(select(Crisis).where(Crisis.customer == customer)).one()
        assert crisis.channel_id
        return crisis.channel_id
