"""The weekly digest's message: the past week's figures against the week before."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot import messages
from bot.blocks.kit import Block, context, header, section
from bot.services.report import Figures


def digest_blocks(*, week: Figures, before: Figures, zone: str) -> list[Block]:
    """Header, one line per figure (this week, then the week before), and a footer."""
    last = (week.end - timedelta(microseconds=1)).date()
    lines = [
        messages.digest_kept(
            week.kept_on_time_pct, week.promises, before.kept_on_time_pct, before.promises
        ),
        messages.digest_late_broken(week.kept_late, week.broken, before.kept_late, before.broken),
        messages.digest_declared_closed(week.declared, week.closed, before.declared, before.closed),
        messages.digest_ack(week.ack_median, week.ack_p90, before.ack_median),
        messages.digest_resolve(week.resolve_median, week.resolve_p90, before.resolve_median),
    ]
    blocks: list[dict[str, Any]] = [
        header(messages.digest_title(week.start.date(), last)),
        section("\n".join(lines)),
        context(messages.digest_footer(zone)),
    ]
    return blocks
