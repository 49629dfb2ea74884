"""``/crisis report``: the period's figures, its breakdowns, the latest promises and what the
team will change."""

from __future__ import annotations

from bot import messages
from bot.blocks.kit import Block, context, divider, fields, header, section
from bot.domain import KIND_LABELS
from bot.enums import CrisisKind
from bot.services.report import BreakdownRow, Dimension, Figures
from bot.text import mention, safe

# Lines per breakdown: where it goes wrong first (most broken promises), then the busiest.
MAX_BREAKDOWN = 8
MAX_CHANGES = 10


def report_blocks(figures: Figures, *, days: int) -> list[Block]:
    """The report a person asked for, private to them."""
    blocks: list[Block] = [
        header(messages.report_title(days)),
        context(messages.report_period(figures.start, figures.end)),
    ]
    if not figures.declared and not figures.closed and not figures.promises:
        return [*blocks, section(messages.report_empty(days))]
    blocks += [
        fields(
            (
                messages.report_crises_label(),
                messages.report_crises(figures.declared, figures.closed),
            ),
            (
                messages.report_promises_label(),
                messages.report_promises(
                    figures.kept_on_time,
                    figures.kept_late,
                    figures.broken,
                    figures.kept_on_time_pct,
                ),
            ),
            (
                messages.report_ack_label(),
                messages.report_times(figures.ack_median, figures.ack_p90),
            ),
            (
                messages.report_resolve_label(),
                messages.report_times(figures.resolve_median, figures.resolve_p90),
            ),
        ),
        divider(),
    ]
    for dimension in Dimension:
        rows = figures.by(dimension)
        if rows:
            blocks.append(section(breakdown_text(dimension, rows)))
    if figures.latest_promises:
        lines = [messages.report_latest_promises()]
        lines += [
            messages.report_promise_line(
                line.customer,
                line.channel_id,
                made_at=line.made_at,
                due_at=line.due_at,
                outcome=line.outcome,
                late_seconds=line.late_seconds,
            )
            for line in figures.latest_promises
        ]
        blocks += [divider(), section("\n".join(lines))]
    if figures.changes:
        lines = [messages.report_changes(figures.changes_total)]
        lines += [
            messages.report_change_line(c.customer, c.channel_id, c.closed_at, c.text)
            for c in figures.changes[:MAX_CHANGES]
        ]
        shown = min(len(figures.changes), MAX_CHANGES)
        if figures.changes_total > shown:
            lines.append(messages.report_more(figures.changes_total - shown))
        blocks += [divider(), *sections(lines)]
    return blocks


def sections(lines: list[str], *, limit: int = 3000) -> list[Block]:
    """``lines`` in as few sections as fit Slack's 3,000 characters each, no line cut."""
    out: list[str] = []
    for line in lines:
        if out and len(out[-1]) + 1 + len(line) <= limit:
            out[-1] += "\n" + line
        else:
            out.append(line)
    return [section(text) for text in out]


def breakdown_text(dimension: Dimension, rows: tuple[BreakdownRow, ...]) -> str:
    """One breakdown: a title, then a line per owner, account, tier, kind or severity."""
    lines = [messages.report_by(dimension.value)]
    for row in rows[:MAX_BREAKDOWN]:
        lines.append(
            messages.report_breakdown_line(
                who(dimension, row.key),
                declared=row.declared,
                closed=row.closed,
                kept_on_time_pct=row.kept_on_time_pct,
                late=row.kept_late,
                broken=row.broken,
                ack_median=row.ack_median,
            )
        )
    if len(rows) > MAX_BREAKDOWN:
        lines.append(messages.report_more(len(rows) - MAX_BREAKDOWN))
    return "\n".join(lines)


def who(dimension: Dimension, key: str) -> str:
    """A breakdown row's name as people read it."""
    match dimension:
        case Dimension.OWNER:
            return mention(key)
        case Dimension.TIER:
            return safe(key, 60) if key else messages.report_no_tier()
        case Dimension.KIND:
            try:
                return KIND_LABELS[CrisisKind(key)]
            except (ValueError, KeyError):
                return safe(key, 60)
        case Dimension.SEVERITY:
            return key.upper()
        case _:
            return f"*{safe(key, 80)}*"
