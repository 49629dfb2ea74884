"""The App Home tab: your crises first, then every open one, overdue first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot import messages
from bot.blocks.card import status_line
from bot.blocks.kit import Block, context, divider, header, section
from bot.db.models import Crisis
from bot.domain import SEVERITY_EMOJI
from bot.text import mention, safe

MAX_ROWS = 40  # a Home tab holds at most 100 blocks


def _row(crisis: Crisis, now: datetime) -> Block:
    where = f"<#{crisis.channel_id}>" if crisis.channel_id else "_channel being set up_"
    return section(
        f"{SEVERITY_EMOJI.get(crisis.severity, '')} *{safe(crisis.customer, 80)}*"
        f" · {crisis.severity.upper()} · {where} · owner {mention(crisis.owner_id)}"
        f"\n{status_line(crisis, now)}"
    )


def home_view(*, user_id: str, open_crises: list[Crisis], now: datetime) -> dict[str, Any]:
    """Home for ``user_id``: what they owe first, then the rest."""
    mine = [c for c in open_crises if c.owner_id == user_id or user_id in c.responders]
    others = [c for c in open_crises if c not in mine]
    blocks: list[Block] = [
        header("Customer crises"),
        context(messages.home_intro()),
    ]
    if not open_crises:
        blocks.append(section(messages.no_open_crises()))
    if mine:
        blocks += [divider(), section("*Yours*")]
        blocks += [_row(c, now) for c in mine[:MAX_ROWS]]
    if others:
        blocks += [divider(), section("*Everyone's*")]
        blocks += [_row(c, now) for c in others[: MAX_ROWS - len(mine[:MAX_ROWS])]]
    shown = min(len(open_crises), MAX_ROWS)
    if len(open_crises) > shown:
        blocks.append(context(f"…and {len(open_crises) - shown} more: `/crisis list`."))
    return {"type": "home", "blocks": blocks}
