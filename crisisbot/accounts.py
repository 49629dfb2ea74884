"""``crisisbot accounts import FILE.csv [--dry-run] | export [FILE] | list``."""

from __future__ import annotations

import argparse
import csv
import logging
import sys
from pathlib import Path

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db.migrate import upgrade
from bot.db.session import make_engine, make_session_factory
from bot.db.tenancy import for_team
from bot.deps import system_clock
from bot.services import accounts
from bot.services.port import SlackFailure
from bot.slack_gateway import SlackGateway, make_client


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("accounts", help="customer accounts: import, export, list")
    parser.add_argument(
        "--team",
        default="",
        metavar="T…",
        help="the workspace whose accounts these are (installed in many workspaces)",
    )
    actions = parser.add_subparsers(dest="action", required=True)
    load = actions.add_parser("import", help="create or update accounts from a CSV file")
    load.add_argument("file", type=Path)
    load.add_argument("--dry-run", action="store_true", help="check the file, change nothing")
    dump = actions.add_parser("export", help="write every account as CSV (to a file or stdout)")
    dump.add_argument("file", type=Path, nargs="?")
    actions.add_parser("list", help="print the accounts as a table")


def run(args: argparse.Namespace, settings: Settings) -> int:
    # The schema is brought up to date on the way, quietly: the output is the accounts.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    # Only that workspace's accounts are read and written.
    session_factory = for_team(make_session_factory(engine), args.team)
    try:
        with session_factory() as session:
            if args.action == "import":
                lookup = _email_lookup(settings, _installed_token(settings, engine, args.team))
                return _import(args.file, settings, session, lookup, dry_run=args.dry_run)
            if args.action == "export":
                text = accounts.to_csv(accounts.all_accounts(session))
                if args.file is None:
                    sys.stdout.write(text)
                else:
                    args.file.write_text(text, encoding="utf-8")
                    print(f"wrote {len(accounts.all_accounts(session))} accounts to {args.file}")
                return 0
            print(table(session))
            return 0
    finally:
        engine.dispose()


def _import(
    path: Path,
    settings: Settings,
    session: Session,
    lookup: accounts.EmailLookup,
    *,
    dry_run: bool,
) -> int:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        print(f"crisisbot: {path}: no such file", file=sys.stderr)
        return 2
    except UnicodeDecodeError:
        print(f"crisisbot: {path}: not UTF-8 text; save the CSV as UTF-8", file=sys.stderr)
        return 2
    try:
        records = accounts.read_csv(text, default_timezone=settings.timezone, lookup_email=lookup)
        report = accounts.upsert(
            session=session, records=records, now=system_clock(), dry_run=dry_run
        )
    except accounts.AccountsFileError as error:
        for line in error.problems:
            print(line, file=sys.stderr)
        print(f"crisisbot: {path}: nothing imported", file=sys.stderr)
        return 2
    verb = "would be" if dry_run else "were"
    print(
        f"{len(report.created)} accounts {verb} created, {len(report.updated)} updated,"
        f" {len(report.unchanged)} unchanged" + (" (dry run: nothing written)" if dry_run else "")
    )
    return 0


def _installed_token(settings: Settings, engine: Engine, team: str) -> str | None:
    """Installed in many workspaces, ``team``'s bot token from its installation."""
    if not (settings.oauth and team):
        return None
    store = SQLAlchemyInstallationStore(client_id=settings.slack_client_id, engine=engine)
    bot = store.find_bot(enterprise_id=None, team_id=team)
    return bot.bot_token if bot is not None else None


def _email_lookup(settings: Settings, installed: str | None = None) -> accounts.EmailLookup:
    """Emails to Slack user ids with ``users.lookupByEmail``, asked only when a file has one
    (with the workspace's own token when installed in many)."""
    gateway: list[SlackGateway] = []

    def look_up(email: str) -> str | None:
        token = installed or settings.slack_bot_token.get_secret_value()
        if not token:
            raise accounts.AccountsFileError(
                [f"{email}: looking up an email needs SLACK_BOT_TOKEN; or use the user id (U…)"]
            )
        if not gateway:
            client = make_client(
                token=token,
                base_url=settings.slack_api_url,
                retry_for=settings.slack_retry_for.total_seconds(),
            )
            gateway.append(SlackGateway(client))
        try:
            return gateway[0].user_by_email(email=email)
        except SlackFailure as failure:
            raise accounts.AccountsFileError(
                [f"{email}: Slack did not answer users.lookupByEmail ({failure.error})"]
            ) from None

    return look_up


def table(session: Session) -> str:
    """The accounts as an aligned text table."""
    rows = [list(accounts.COLUMNS)]
    for line in accounts.to_csv(accounts.all_accounts(session)).splitlines()[1:]:
        rows.append(next(csv.reader([line])))
    if len(rows) == 1:
        return "no accounts yet: crisisbot accounts import FILE.csv"
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
