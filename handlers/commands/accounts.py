"""``/crisis account <name>``, ``/crisis account edit|add`` and ``/crisis accounts``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from slack_bolt import Ack, Respond
from sqlalchemy.orm import Session

from bot import messages
from bot.blocks.accounts import account_blocks, account_modal, accounts_blocks
from bot.deps import Deps
from bot.domain import SEVERITIES
from bot.parsing import Command
from bot.services import accounts, ledger
from bot.services.errors import CrisisError
from bot.text import safe
from handlers.common import replying_on_failure, require_account_editor, safe_reply


def run_account_command(
    *, ack: Ack, parsed: Command, command: dict[str, Any], respond: Respond, deps: Deps
) -> None:
    """Show an account, list them, or open the account form: always a private answer."""
    if parsed.name == "accounts":
        ack()
        deps.later(lambda: _list(deps, parsed.text, respond))
        return
    ack()
    if parsed.action:
        # views.open right away: the trigger expires three seconds after the command.
        with replying_on_failure(safe_reply(respond)):
            _open_form(deps, parsed, command)
        return
    deps.later(lambda: _show(deps, parsed.text, respond))


def _defaults(deps: Deps) -> dict[str, timedelta]:
    return {severity: deps.settings.cadence(severity) for severity in SEVERITIES}


def _unknown(session: Session, name: str) -> CrisisError:
    near = accounts.closest(session, name)
    return CrisisError(
        messages.no_such_account(
            name,
            suggestion=near.name if near else None,
            any_accounts=accounts.any_accounts(session),
        )
    )


def _show(deps: Deps, name: str, respond: Respond) -> None:
    with replying_on_failure(safe_reply(respond)), deps.session_factory() as session:
        account = accounts.find(session, name)
        if account is None:
            raise _unknown(session, name)
        now = deps.now()
        blocks = account_blocks(
            account,
            now=now,
            when=accounts.customer_time(account, now),
            open_crises=accounts.open_crises(session, account),
            recent=accounts.recent_crises(session, account),
            defaults=_defaults(deps),
            promises=ledger.account_record(session, account_id=account.id),
        )
        respond(text=f"The account {safe(account.name, 80)}", blocks=blocks)


def _list(deps: Deps, matching: str, respond: Respond) -> None:
    with replying_on_failure(safe_reply(respond)), deps.session_factory() as session:
        found = accounts.search(session, matching, limit=None)
        counts = accounts.open_crisis_counts(session, found)
        rows = [(account, counts[account.id]) for account in found]
        blocks = accounts_blocks(
            rows, matching=matching, any_accounts=bool(found) or accounts.any_accounts(session)
        )
        text = messages.accounts_header(len(rows), matching=matching) if rows else "No accounts"
        respond(text=text, blocks=blocks)


def _open_form(deps: Deps, parsed: Command, command: dict[str, Any]) -> None:
    user_id = command["user_id"]
    with deps.session_factory() as session:
        if parsed.action == "edit":
            account = accounts.find(session, parsed.text)
            if account is None:
                raise _unknown(session, parsed.text)
            require_account_editor(deps, account, user_id)
            cells, account_id = accounts.to_cells(account), account.id
        else:
            require_account_editor(deps, None, user_id)
            cells = {"name": parsed.text, "timezone": deps.settings.timezone}
            account_id = None
    deps.slack.open_view(
        trigger_id=command["trigger_id"],
        view=account_modal(
            cells=cells,
            account_id=account_id,
            origin_channel_id=command.get("channel_id") or None,
            defaults=_defaults(deps),
        ),
    )
