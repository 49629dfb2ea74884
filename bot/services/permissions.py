"""Who may take part in a crisis (only teammates) and who may change it (its owner, its
responders and the configured admins)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from bot import messages
from bot.db.models import Account, Crisis
from bot.services.errors import CrisisError
from bot.services.port import SlackPort

# Who someone would be: a crisis's owner or responder, an account's CSM or on its team.
Role = Literal["own", "respond", "csm", "team"]


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


def may_edit_account(account: Account | None, user_id: str, *, admins: set[str]) -> bool:
    """Whether ``user_id`` may edit ``account`` (its CSM, an admin) or add one (``None``:
    admins only)."""
    return user_id in admins or (account is not None and user_id == account.csm_id)


def require_account_editor(
    account: Account | None,
    user_id: str,
    *,
    admins: set[str],
    named_admins: list[str] | None = None,
) -> None:
    """Raise a polite refusal naming who can, unless ``user_id`` may edit (or add) the account."""
    if not may_edit_account(account, user_id, admins=admins):
        named = named_admins if named_admins is not None else sorted(admins)
        raise CrisisError(
            messages.account_edit_not_allowed(
                account.name if account else None, account.csm_id if account else None, named
            )
        )


def require_teammates(
    *, slack: SlackPort, user_ids: Sequence[str], role: Role, field: str | None = None
) -> None:
    """Refuse, naming them, anyone in ``user_ids`` who is from another organisation or a
    guest: only the team owns (``role="own"``) or responds to (``"respond"``) a crisis.

    ``field`` is the form field the error belongs to, so a modal shows it there.
    """
    refusals = []
    for user_id in dict.fromkeys(u for u in user_ids if u):
        person = slack.person(user=user_id)
        if not person.is_teammate:
            refusals.append(
                messages.not_a_teammate(
                    person.name, guest=person.guest, organisation=person.organisation, role=role
                )
            )
    if refusals:
        raise CrisisError(" ".join(refusals), field=field)


def require_team_crew(*, slack: SlackPort, owner_id: str, responders: Sequence[str]) -> None:
    """Refuse a declaration whose owner or responders are not all teammates."""
    require_teammates(slack=slack, user_ids=[owner_id], role="own", field="owner")
    require_teammates(slack=slack, user_ids=responders, role="respond", field="responders")
