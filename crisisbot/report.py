"""``crisisbot report [--since 30d] [--format csv|json] [--by account|owner|kind|severity|tier]``:
the figures of ``/crisis report`` for BI tools, on stdout."""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import sys
from datetime import datetime, timedelta
from typing import Any

from bot.config import Settings
from bot.db.migrate import upgrade
from bot.db.session import make_engine, make_session_factory
from bot.deps import system_clock
from bot.durations import DurationError, parse_duration
from bot.services import report
from bot.services.report import BreakdownRow, Dimension, Figures

COLUMNS = (
    "period_start",
    "period_end",
    "by",
    "key",
    "declared",
    "closed",
    "kept_on_time",
    "kept_late",
    "broken",
    "kept_on_time_pct",
    "ack_median_seconds",
    "ack_p90_seconds",
    "resolve_median_seconds",
    "resolve_p90_seconds",
)
TOTAL = "total"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "report", help="the figures of /crisis report, as CSV or JSON, for BI tools"
    )
    parser.add_argument(
        "--since", default="30d", help="how far back from now: 7d, 30d, 90d, 12h… (default 30d)"
    )
    parser.add_argument("--format", choices=["csv", "json"], default="csv")
    parser.add_argument(
        "--by",
        choices=[dimension.value for dimension in Dimension],
        help="one row per owner, account, tier, kind or severity (default: the totals)",
    )
    parser.add_argument(
        "--team", default="", help="the Slack workspace (team id) when several are installed"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        since = parse_duration(args.since)
    except DurationError as error:
        print(f"crisisbot: --since {args.since}: {error}; say 7d, 30d or 90d", file=sys.stderr)
        return 2
    if since < timedelta(minutes=1):
        print(f"crisisbot: --since {args.since}: say at least 1m, like 30d", file=sys.stderr)
        return 2
    # The schema is brought up to date on the way, quietly: the output is the figures.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        end = system_clock()
        with make_session_factory(engine)() as session:
            # Every answer to "What will we change…?" of the period, not only the latest.
            figures = report.figures(
                session, team_id=args.team, start=end - since, end=end, changes_limit=100_000
            )
    finally:
        engine.dispose()
    by = Dimension(args.by) if args.by else None
    sys.stdout.write(to_csv(figures, by=by) if args.format == "csv" else to_json(figures, by=by))
    return 0


def to_csv(figures: Figures, *, by: Dimension | None) -> str:
    """A header, then the totals (``by`` None) or one row per ``by``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    rows = [figures.total] if by is None else list(figures.by(by))
    for row in rows:
        values = _row(row)
        writer.writerow(
            [
                figures.start.isoformat(),
                figures.end.isoformat(),
                TOTAL if by is None else by.value,
                row.key,
                *("" if value is None else value for value in values.values()),
            ]
        )
    return out.getvalue()


def to_json(figures: Figures, *, by: Dimension | None) -> str:
    """Everything the report shows: totals, the breakdowns (every one, or ``by``), the latest
    promises and the answers to "What will we change…?"."""
    dimensions = list(Dimension) if by is None else [by]
    document: dict[str, Any] = {
        "period_start": figures.start.isoformat(),
        "period_end": figures.end.isoformat(),
        "totals": _row(figures.total),
        "breakdowns": {
            dimension.value: [{"key": row.key, **_row(row)} for row in figures.by(dimension)]
            for dimension in dimensions
        },
        "latest_promises": [
            {
                "crisis_id": line.crisis_id,
                "customer": line.customer,
                "made_at": line.made_at.isoformat(),
                "due_at": line.due_at.isoformat(),
                "ended_at": _when(line.ended_at),
                "outcome": None if line.outcome is None else line.outcome.value,
                "late_seconds": line.late_seconds,
            }
            for line in figures.latest_promises
        ],
        "changes_total": figures.changes_total,
        "changes": [
            {
                "crisis_id": change.crisis_id,
                "customer": change.customer,
                "closed_at": change.closed_at.isoformat(),
                "text": change.text,
            }
            for change in figures.changes
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _row(row: BreakdownRow) -> dict[str, Any]:
    return {
        "declared": row.declared,
        "closed": row.closed,
        "kept_on_time": row.kept_on_time,
        "kept_late": row.kept_late,
        "broken": row.broken,
        "kept_on_time_pct": None
        if row.kept_on_time_pct is None
        else round(row.kept_on_time_pct, 1),
        "ack_median_seconds": _seconds(row.ack_median),
        "ack_p90_seconds": _seconds(row.ack_p90),
        "resolve_median_seconds": _seconds(row.resolve_median),
        "resolve_p90_seconds": _seconds(row.resolve_p90),
    }


def _seconds(delta: timedelta | None) -> float | None:
    return None if delta is None else round(delta.total_seconds(), 1)


def _when(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
