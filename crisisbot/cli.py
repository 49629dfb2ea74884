"""``crisisbot run | sandbox | db upgrade | accounts … | report …``."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.config import ConfigError, Settings, load_settings
from bot.logs import configure_logging
from crisisbot import accounts as accounts_cli
from crisisbot import report as report_cli

if TYPE_CHECKING:
    from crisisbot.runtime import Runtime

log = logging.getLogger("crisisbot")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="crisisbot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start the bot (HTTP on $PORT, or Socket Mode)")
    db = commands.add_parser("db", help="database tasks")
    db.add_argument(
        "action",
        choices=["upgrade", "adopt"],
        help="upgrade: apply migrations; adopt: give the single-workspace bot's data to --team",
    )
    db.add_argument("--team", default="", metavar="T…", help="the workspace that adopts")
    sandbox = commands.add_parser("sandbox", help="run the bot against a local Slack emulator")
    sandbox.add_argument("--port", type=int, default=8080)
    sandbox.add_argument("--drill", action="store_true", help="short cadences for rehearsals")
    sandbox.add_argument(
        "--socket-mode",
        action="store_true",
        help="the bot connects to the emulator over Socket Mode instead of serving HTTP",
    )
    accounts_cli.add_parser(commands)
    report_cli.add_parser(commands)
    args = parser.parse_args(argv)

    try:
        settings = load_settings()
        if args.command == "run":
            settings.require_slack()
    except ConfigError as error:
        print(f"crisisbot: {error}", file=sys.stderr)
        return 2
    configure_logging(
        settings.log_level,
        secrets=[
            settings.slack_bot_token.get_secret_value(),
            settings.slack_signing_secret.get_secret_value(),
            settings.slack_app_token.get_secret_value() if settings.slack_app_token else "",
            settings.slack_client_secret.get_secret_value(),
            settings.slack_state_secret.get_secret_value(),
        ],
    )
    if args.command == "db":
        from bot.db.migrate import upgrade

        if args.action == "adopt" and not args.team:
            print("crisisbot: db adopt: name the workspace, --team T0123ABCD", file=sys.stderr)
            return 2
        upgrade(settings.database_url)
        if args.action == "adopt":
            return adopt(settings, args.team)
        print("database is up to date")
        return 0
    if args.command == "accounts":
        return accounts_cli.run(args, settings)
    if args.command == "report":
        return report_cli.run(args, settings)
    if args.command == "sandbox":
        from crisisbot.sandbox import run_sandbox

        return int(run_sandbox(port=args.port, drill=args.drill, socket_mode=args.socket_mode) or 0)
    return run(settings)


def adopt(settings: Settings, team: str) -> int:
    """``crisisbot db adopt --team T…``: the rows of the single-workspace bot become ``team``'s."""
    from bot.db.session import make_engine, make_session_factory
    from bot.services import workspaces

    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            moved = workspaces.adopt(session=session, team_id=team)
    finally:
        engine.dispose()
    summary = ", ".join(f"{count} {table}" for table, count in sorted(moved.items()))
    print(f"workspace {team} adopted " + (summary or "nothing (no single-workspace rows)"))
    return 0


def run(settings: Settings) -> int:
    """Serve Slack until interrupted (``settings.require_slack()`` has passed)."""
    from slack_bolt.error import BoltError
    from slack_sdk.errors import SlackApiError

    from crisisbot.runtime import SchemaError, build_runtime, masked

    app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else ""
    try:
        runtime = build_runtime(settings, migrate=settings.migrate_on_start)
    except SchemaError as error:
        print(f"crisisbot: {error}", file=sys.stderr)
        return 2
    except BoltError as error:
        # Bolt checks the token with Slack at start (auth.test).
        print(f"crisisbot: SLACK_BOT_TOKEN: Slack did not accept it ({error})", file=sys.stderr)
        return 2
    log.info("starting with %s", masked(settings))
    if app_token:
        from crisisbot import socket_mode

        try:
            handler = socket_mode.connect(runtime.app, app_token)
        except SlackApiError as error:
            runtime.close(wait=False)
            print(
                f"crisisbot: SLACK_APP_TOKEN: Slack did not accept it ({error.response['error']})",
                file=sys.stderr,
            )
            return 2
    runtime.scheduler.start()
    if not app_token:
        return serve_http(runtime, settings)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        log.info("connected in Socket Mode")
        threading.Event().wait()
    except KeyboardInterrupt:
        log.info("stopping")
    finally:
        handler.close()
        runtime.close()
    return 0


# SIGTERM to exit: orchestrators wait 30 s by default before SIGKILL; we take at most 20.
STOP_WITHIN = 20.0
# Of which, at most this long for the requests already begun to be answered.
DRAIN_WITHIN = 10.0


def serve_http(runtime: Runtime, settings: Settings) -> int:
    """Serve HTTP until SIGTERM or SIGINT, then stop gracefully: refuse new connections,
    answer the requests already begun, finish the Slack work already started, close."""
    from crisisbot.http import make_server
    from crisisbot.runtime import schema_readiness

    server = make_server(
        runtime.app,
        port=settings.port,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        ready=schema_readiness(runtime.engine),
        threads=settings.http_threads,
        connection_limit=settings.http_connection_limit,
        read_timeout=settings.http_read_timeout,
    )
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    serving = threading.Thread(target=server.serve_forever, name="http", daemon=True)
    serving.start()
    log.info("listening on :%s/slack/events", settings.port)
    if settings.oauth:
        log.info("installs at :%s/slack/install (many workspaces)", settings.port)
    while not stop.wait(0.5) and serving.is_alive():
        pass
    deadline = time.monotonic() + STOP_WITHIN
    log.info("stopping: no new connections; answering the requests already begun")
    server.stop_accepting()
    if not server.drain(timeout=DRAIN_WITHIN):
        log.warning("stopping: some requests were not answered within %.0f s", DRAIN_WITHIN)
    server.shutdown()
    log.info("stopping: finishing the Slack work already started")
    closing = threading.Thread(target=runtime.close, kwargs={"wait": True}, daemon=True)
    closing.start()
    closing.join(max(0.0, deadline - time.monotonic() - 1.0))
    if closing.is_alive():
        log.error("stopped before the Slack work already started was finished")
        logging.shutdown()
        # The pools' threads would hold the interpreter's exit; the rows say what is left.
        os._exit(1)
    log.info("stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
