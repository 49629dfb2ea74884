"""``python -m bench``: run the benchmarks, print a table, write docs/benchmarks.md."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from bench import ack, broadcast, cost, digest, outage, scale
from bench import report as report_bench
from bench.common import ROOT, Result

ALL = ("ack", "outage", "scale", "cost", "broadcast", "report", "digest")
PACKAGES = ("slack_bolt", "slack_sdk", "SQLAlchemy", "APScheduler", "alembic", "psycopg")


def machine() -> list[str]:
    """CPU, cores, memory, Python, PostgreSQL and package versions."""
    cpu = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as info:
        cpu = next((ln.split(":", 1)[1].strip() for ln in info if ln.startswith("model name")), cpu)
    memory = "unknown"
    with contextlib.suppress(OSError), open("/proc/meminfo") as info:
        kb = int(next(ln for ln in info if ln.startswith("MemTotal")).split()[1])
        memory = f"{kb / 1024 / 1024:.1f} GiB"
    versions = []
    for name in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions.append(f"{name} {metadata.version(name)}")
    postgres = "not installed"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        postgres = (
            subprocess.run(
                ["postgres", "--version"], capture_output=True, text=True, timeout=10
            ).stdout.strip()
            or postgres
        )
    return [
        f"CPU: {cpu}, {os.cpu_count()} cores (shared machine)",
        f"Memory: {memory}",
        f"OS: {platform.platform()}",
        f"Python: {platform.python_version()}",
        f"PostgreSQL: {postgres}",
        "Packages: " + ", ".join(versions),
    ]


@contextlib.contextmanager
def postgres(enabled: bool) -> Iterator[str | None]:
    """A fresh database on a throwaway local server (tests/postgres.py), or None."""
    if not enabled:
        yield None
        return
    from tests.postgres import fresh_database, postgres_server

    try:
        server = postgres_server()
        admin = server.__enter__()
    except (FileNotFoundError, subprocess.CalledProcessError) as error:
        print(f"PostgreSQL unavailable ({error}); skipping its figures", file=sys.stderr)
        yield None
        return
    try:
        yield fresh_database(admin)
    finally:
        server.__exit__(None, None, None)


def table(results: list[Result]) -> list[str]:
    """Markdown rows: benchmark, figure, value, target, met."""
    lines = ["| # | figure | value | target | met |", "|---|---|---|---|---|"]
    for result in results:
        for row in result.rows:
            met = "" if row.met is None else ("yes" if row.met else "**no**")
            lines.append(f"| {row.bench} | {row.metric} | {row.value} | {row.target} | {met} |")
    return lines


def write_doc(path: Path, results: list[Result], argv: list[str], seconds: float) -> None:
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench`); do not edit by hand. Every comparison is a",
        "ratio measured side by side in the same run, because the machine is shared and noisy.",
        "",
        f"Run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, `python -m bench {' '.join(argv)}`,"
        f" {seconds:.0f} s in all.",
        "",
        "## Machine",
        "",
        *[f"- {line}" for line in machine()],
        "",
        "## Figures",
        "",
        *table(results),
        "",
        "## How each was measured",
        "",
    ]
    for result in results:
        lines += [f"### {result.name}", "", result.command, ""]
        lines += [f"- {note}" for note in result.notes]
        lines.append("")
    tuning = Path(__file__).with_name("tuning.md")
    if tuning.exists():
        lines += [tuning.read_text().rstrip(), ""]
    budget = Path(__file__).with_name("budget.md")
    if budget.exists():
        lines += [budget.read_text().rstrip(), ""]
    lines += [
        "## Commands",
        "",
        "```sh",
        "make bench                        # everything, about 4 minutes",
        ".venv/bin/python -m bench --quick # a smoke run, under 2 minutes",
        ".venv/bin/python -m bench --only ack,cost # ack outage scale cost broadcast report digest",
        ".venv/bin/python -m bench --no-postgres --no-write",
        "```",
        "",
    ]
    path.write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", default=",".join(ALL), help=f"comma list of {', '.join(ALL)}")
    parser.add_argument("--quick", action="store_true", help="short durations, small counts")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only in #3 and #4")
    parser.add_argument("--no-write", action="store_true", help="do not write the doc")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(chosen) - set(ALL)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    logging.basicConfig(level=logging.ERROR)
    started = time.monotonic()
    results: list[Result] = []
    for name in ALL:
        if name not in chosen:
            continue
        print(f"running {name}…", file=sys.stderr, flush=True)
        if name == "ack":
            results.append(ack.run(quick=args.quick))
        elif name == "outage":
            results.append(outage.run(quick=args.quick))
            # The same outage taken by three replicas sharing one Slack budget (PostgreSQL).
            with postgres(not args.no_postgres) as pg_url:
                if pg_url is not None:
                    results.append(outage.run(quick=args.quick, database_url=pg_url, replicas=3))
        elif name == "scale":
            with postgres(not args.no_postgres) as pg_url:
                scheduler, restart = scale.run(quick=args.quick, postgres_url=pg_url)
            results.append(scheduler)
            if restart is not None:
                results.append(restart)
        elif name == "cost":
            results.append(cost.run(quick=args.quick))
        elif name == "report":
            with postgres(not args.no_postgres) as pg_url:
                results.append(report_bench.run(quick=args.quick, postgres_url=pg_url))
        elif name == "broadcast":
            results.append(broadcast.run(quick=args.quick))
        elif name == "digest":
            with postgres(not args.no_postgres) as pg_url:
                results.append(digest.run(quick=args.quick, postgres_url=pg_url))
    seconds = time.monotonic() - started
    print("\n".join(table(results)))
    if not args.no_write:
        write_doc(args.out, results, sys.argv[1:] if argv is None else argv, seconds)
        print(f"\nwrote {args.out} ({seconds:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
