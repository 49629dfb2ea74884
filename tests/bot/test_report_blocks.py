"""The report's Block Kit: within Slack's limits however busy the period."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.blocks.report import MAX_BREAKDOWN, report_blocks
from bot.enums import PromiseOutcome
from bot.services.report import BreakdownRow, Change, Figures, PromiseLine

START = datetime(2026, 11, 1, tzinfo=UTC)


def row(key: str) -> BreakdownRow:
    return BreakdownRow(key, 3, 2, 5, 1, 1, 100 * 5 / 7, timedelta(minutes=4), None, None, None)


def busy() -> Figures:
    owners = tuple(row(f"U{n:04d}") for n in range(30))
    return Figures(
        start=START,
        end=START + timedelta(days=30),
        declared=90,
        closed=60,
        kept_on_time=150,
        kept_late=30,
        broken=30,
        kept_on_time_pct=100 * 150 / 210,
        ack_median=timedelta(minutes=4, seconds=30),
        ack_p90=timedelta(minutes=20),
        resolve_median=timedelta(hours=5),
        resolve_p90=timedelta(days=2, hours=3),
        by_owner=owners,
        by_account=tuple(row("Acme <b>" * 40) for _ in range(30)),
        by_tier=(row(""),),
        by_kind=(row("service_outage"), row("retired_kind")),
        by_severity=(row("sev1"),),
        latest_promises=tuple(
            PromiseLine(n, n, "Globex", "C0G", START, START, None, PromiseOutcome.LATE, 900)
            for n in range(5)
        ),
        changes=tuple(Change(n, "Acme", None, START, "x" * 1000) for n in range(10)),
        changes_total=25,
    )


def test_a_busy_period_stays_within_slacks_limits() -> None:
    blocks = report_blocks(busy(), days=30)
    assert len(blocks) <= 50
    for block in blocks:
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= 3000
    text = json.dumps(blocks, ensure_ascii=False)
    assert "*71%* kept on time (150 of 210) · 30 kept late · 30 broken" in text
    assert "median 4m 30s · 90th percentile 20m" in text
    assert "median 5h · 90th percentile 2d 3h" in text
    owners = next(
        b["text"]["text"] for b in blocks if "*By owner*" in b.get("text", {}).get("text", "")
    )
    assert owners.count("<@U") == MAX_BREAKDOWN
    assert "…and 22 more" in owners
    assert "no tier: 3 declared" in text
    assert "Service outage: 3 declared" in text and "retired_kind: 3 declared" in text
    assert "&lt;b&gt;" in text and "<b>" not in text  # names are escaped
    assert "kept 15m late" in text
    assert "*What we will change* (25)" in text and "…and 15 more" in text


def test_an_empty_period_says_so() -> None:
    empty = Figures(
        START, START + timedelta(days=7), 0, 0, 0, 0, 0, None, None, None, None, None,
        (), (), (), (), (), (), (), 0,
    )  # fmt: skip
    blocks = report_blocks(empty, days=7)
    assert [b["type"] for b in blocks] == ["header", "context", "section"]
    assert "No crisis was declared or closed" in blocks[2]["text"]["text"]
