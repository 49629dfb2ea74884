"""``crisisbot run | sandbox | db upgrade | accounts … | report …``."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence

from bot.config import ConfigError, Settings, load_settings
from bot.logs import configure_logging
from crisisbot import accounts as accounts_cli
from crisisbot import report as report_cli

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

    from crisisbot.http import make_server
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
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        if app_token:
            log.info("connected in Socket Mode")
            threading.Event().wait()
        else:
            server = make_server(runtime.app, port=settings.port)
            log.info("listening on :%s/slack/events", settings.port)
            if settings.oauth:
                log.info("installs at :%s/slack/install (many workspaces)", settings.port)
            server.serve_forever()
    except KeyboardInterrupt:
        log.info("stopping")
    finally:
        if app_token:
            handler.close()
        runtime.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
