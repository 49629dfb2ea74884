"""#5 Cost of a crisis: Web API calls and database queries per declare, update, nag and close."""

from __future__ import annotations

import tempfile
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Executor, Future
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import event, select

from bench.common import SIGNING_SECRET, TOKEN, Result, command_body, post_signed
from bot.app import build_app
from bot.config import Settings
from bot.db.migrate import upgrade
from bot.db.models import Crisis
from bot.db.session import make_engine, make_session_factory
from bot.deps import Deps
from bot.http import make_server
from bot.ratelimit import RateLimiter
from bot.slack_gateway import SlackGateway, make_client
from sandbox import start_emulator
from scheduler.jobs import sweep_due


class Inline(Executor):
    """Runs work at once, so each step's calls and queries are all counted before it returns."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:
            future.set_exception(error)
        return future


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

    now = [datetime(2030, 1, 2, 9, 0, tzinfo=UTC)]
    settings = Settings(
        slack_bot_token=SecretStr(TOKEN),
        slack_signing_secret=SecretStr(SIGNING_SECRET),
        slack_api_url=emulator.api_url,
        database_url=url,
    )
    client = make_client(token=TOKEN, base_url=emulator.api_url)
    deps = Deps(
        settings=settings,
        session_factory=make_session_factory(engine),
        slack=SlackGateway(client, limiter=RateLimiter(window=0.06)),
        clock=lambda: now[0],
        workers=Inline(),
    )
    server = make_server(
        build_app(deps, client=client, listener_executor=Inline()), host="127.0.0.1", port=0
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = int(server.server_address[1])

    def command(text: str, channel: str = "C0GENERAL") -> None:
        post_signed(port, command_body(emulator, text, user="U0ANA", channel=channel))

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
        command("new Warmup: first request pays auth.test sev2")
        measure("declare", lambda: command("new Acme: dashboards are empty sev2"))
        with deps.session_factory() as session:
            crisis = session.scalars(select(Crisis).order_by(Crisis.id.desc())).first()
            assert crisis is not None and crisis.channel_id and crisis.next_update_due_at
            channel, due = crisis.channel_id, crisis.next_update_due_at
        measure("update", lambda: command("update restarted the ingest, watching", channel))
        with deps.session_factory() as session:
            crisis = session.scalars(select(Crisis).where(Crisis.channel_id == channel)).one()
            assert crisis.next_update_due_at is not None
            due = crisis.next_update_due_at

        def sweep_at(moment: datetime) -> Callable[[], object]:
            def go() -> object:
                now[0] = moment
                return sweep_due(deps)

            return go

        measure("nag: heads-up", sweep_at(due - settings.reminder_lead))
        measure("nag: first overdue", sweep_at(due + timedelta(seconds=1)))
        measure("nag: repeat overdue", sweep_at(due + settings.nag_every + timedelta(seconds=2)))
        measure(
            "idle sweep, nothing due", sweep_at(due + settings.nag_every + timedelta(seconds=3))
        )
        measure("close", lambda: command("close ingest fixed, customer confirmed", channel))
    finally:
        server.shutdown()
        server.server_close()
        emulator.stop()
        engine.dispose()
    return result
