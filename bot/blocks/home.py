"""The App Home tab, a dashboard: your open crises with the next promise and a countdown
(overdue first), your figures and the team's for 30 days, then every open crisis."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot import messages
from bot.blocks.kit import Block, actions, button, context, divider, fields, header, section
from bot.blocks.listing import crisis_row
from bot.db.models import Crisis
from bot.services.report import BreakdownRow

MAX_ROWS = 30  # a Home tab holds at most 100 blocks; each of yours takes two
DECLARE = "home_declare"


def home_view(
    *,
    user_id: str,
    open_crises: list[Crisis],
    now: datetime,
    mine: BreakdownRow | None = None,
    team: BreakdownRow | None = None,
) -> dict[str, Any]:
    """Home for ``user_id``: what they owe first, with a countdown to each promise; their 30
    days' figures (``mine``, as owner) next to the team's (``team``); then the rest."""
    yours = [c for c in open_crises if c.owner_id == user_id or user_id in c.responders]
    others = [c for c in open_crises if c not in yours]
    blocks: list[Block] = [
        header("Customer crises"),
        context(messages.home_intro()),
        actions(button("Declare a crisis", DECLARE, "declare", style="primary")),
        divider(),
        section(messages.home_yours_header(len(yours))),
    ]
    if not yours:
        blocks.append(context(messages.home_no_crises_of_yours()))
    for crisis in _overdue_first(yours, now)[:MAX_ROWS]:
        blocks += [crisis_row(crisis, now), context(messages.home_countdown(_due(crisis), now))]
    if team is not None:
        you_label, team_label = messages.home_figures_labels()
        blocks += [
            divider(),
            section(messages.home_figures_header()),
            fields((you_label, _figures(mine)), (team_label, _figures(team))),
        ]
    blocks += [divider(), section("*Everyone's*")]
    if not open_crises:
        blocks.append(section(messages.no_open_crises()))
    room = MAX_ROWS - min(len(yours), MAX_ROWS)
    blocks += [crisis_row(c, now) for c in others[:room]]
    shown = min(len(yours), MAX_ROWS) + min(len(others), room)
    if len(open_crises) > shown:
        blocks.append(context(f"…and {len(open_crises) - shown} more: `/crisis list`."))
    return {"type": "home", "blocks": blocks}


def _due(crisis: Crisis) -> datetime | None:
    return crisis.next_update_due_at


def _overdue_first(crises: list[Crisis], now: datetime) -> list[Crisis]:
    """Overdue first (longest overdue on top), then by when the next promise is due."""
    return sorted(crises, key=lambda c: (_due(c) is None, _due(c) or now, c.id))


def _figures(row: BreakdownRow | None) -> str:
    if row is None:
        return messages.home_figures(
            pct=None,
            promises=0,
            late=0,
            broken=0,
            declared=0,
            closed=0,
            ack_median=None,
            resolve_median=None,
        )
    return messages.home_figures(
        pct=row.kept_on_time_pct,
        promises=row.promises,
        late=row.kept_late,
        broken=row.broken,
        declared=row.declared,
        closed=row.closed,
        ack_median=row.ack_median,
        resolve_median=row.resolve_median,
    )
