"""Who may change a crisis: its owner, its responders and the configured admins."""

from __future__ import annotations

from bot import messages
from bot.db.models import Crisis
from bot.services.errors import CrisisError


def may_manage(crisis: Crisis, user_id: str, *, admins: set[str]) -> bool:
    """Whether ``user_id`` may update, close, reopen, hand over or re-time ``crisis``."""
    return user_id == crisis.owner_id or user_id in crisis.responders or user_id in admins


def require_manager(
    crisis: Crisis,
    user_id: str,
    *,
    admins: set[str],
    action: str,
    named_admins: list[str] | None = None,
) -> None:
    """Raise a polite refusal naming who can, unless ``user_id`` may manage the crisis.
    ``named_admins`` are the admins as configured (users and user groups), for the refusal."""
    if not may_manage(crisis, user_id, admins=admins):
        named = named_admins if named_admins is not None else sorted(admins)
        raise CrisisError(messages.not_allowed(action, crisis.owner_id, crisis.responders, named))
