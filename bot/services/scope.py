"""What every crisis service works with, passed as one typed value."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.services.leases import Claims
from bot.services.port import SlackPort


@dataclass(frozen=True)
class Scope:
    """The database session, Slack, the settings, the moment the work is done at and the
    workspace it is done for: the same for every service a request or a sweep calls, so each
    call names only its own arguments (and mypy checks them).

    ``team_id`` is the Slack workspace the work belongs to. Every row a service stores carries
    it and every query a service runs is filtered by it, so one installation never sees
    another's crises, accounts or figures. A single-workspace bot works in ``""``.

    ``claims`` is this process's token and the crises it is working on: work in flight is
    claimed with it, and its lease renewed while it runs (``bot/services/leases.py``)."""

    session: Session
    slack: SlackPort
    settings: Settings
    now: datetime
    team_id: str = ""
    claims: Claims = field(default_factory=Claims)
