"""``crisisbot run | sandbox | db upgrade``."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence

from bot.config import ConfigError, Settings, load_settings
from bot.logs import configure_logging
from crisisbot import accounts as accounts_cli

log = logging.getLogger("crisisbot")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="crisisbot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start the bot (HTTP on $PORT, or Socket Mode)")
    db = commands.add_parser("db", help="database tasks")
    db.add_argument("action", choices=["upgrade"], help="upgrade: apply migrations")
    sandbox = commands.add_parser("sandbox", help="run the bot against a local Slack emulator")
    sandbox.add_argument("--port", type=int, default=8080)
    sandbox.add_argument("--drill", action="store_true", help="short cadences for rehearsals")
    accounts_cli.add_parser(commands)
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
        ],
    )
    if args.command == "db":
        from bot.db.migrate import upgrade

        upgrade(settings.database_url)
        print("database is up to date")
        return 0
    if args.command == "accounts":
        return accounts_cli.run(args, settings)
    if args.command == "sandbox":
        from crisisbot.sandbox import run_sandbox

        return int(run_sandbox(port=args.port, drill=args.drill) or 0)
    return run(settings)


def run(settings: Settings) -> int:
    """Serve Slack until interrupted (``settings.require_slack()`` has passed)."""
    from slack_bolt.error import BoltError

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
    runtime.scheduler.start()
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        if app_token:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            log.info("connecting in Socket Mode")
            SocketModeHandler(runtime.app, app_token).start()
        else:
            server = make_server(runtime.app, port=settings.port)
            log.info("listening on :%s/slack/events", settings.port)
            server.serve_forever()
    except KeyboardInterrupt:
        log.info("stopping")
    finally:
        runtime.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
