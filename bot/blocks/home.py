"""The App Home tab: your crises first, then every open one, overdue first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot import messages
from bot.blocks.kit import Block, actions, button, context, divider, header, section
from bot.blocks.listing import crisis_row
from bot.db.models import Crisis

MAX_ROWS = 40  # a Home tab holds at most 100 blocks
DECLARE = "home_declare"


def home_view(*, user_id: str, open_crises: list[Crisis], now: datetime) -> dict[str, Any]:
    """Home for ``user_id``: what they owe first, then the rest."""
    mine = [c for c in open_crises if c.owner_id == user_id or user_id in c.responders]
    others = [c for c in open_crises if c not in mine]
    blocks: list[Block] = [
        header("Customer crises"),
        context(messages.home_intro()),
        actions(button("Declare a crisis", DECLARE, "declare", style="primary")),
    ]
    if not open_crises:
        blocks.append(section(messages.no_open_crises()))
    if mine:
        blocks += [divider(), section("*Yours*")]
        blocks += [crisis_row(c, now) for c in mine[:MAX_ROWS]]
    if others:
        blocks += [divider(), section("*Everyone's*")]
        blocks += [crisis_row(c, now) for c in others[: MAX_ROWS - len(mine[:MAX_ROWS])]]
    shown = min(len(open_crises), MAX_ROWS)
    if len(open_crises) > shown:
        blocks.append(context(f"…and {len(open_crises) - shown} more: `/crisis list`."))
    return {"type": "home", "blocks": blocks}
