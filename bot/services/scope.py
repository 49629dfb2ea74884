"""What every crisis service works with, passed as one typed value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.services.port import SlackPort


@dataclass(frozen=True)
class Scope:
    """The database session, Slack, the settings and the moment the work is done at: the
    same for every service a request or a sweep calls, so each call names only its own
    arguments (and mypy checks them)."""

    session: Session
    slack: SlackPort
    settings: Settings
    now: datetime
