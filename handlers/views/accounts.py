"""The account form: checked by the CSV import's rules in the ack, saved with its upsert."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, BoltContext

from bot import messages
from bot.deps import Deps, deps_of
from bot.services import accounts
from bot.services.errors import CrisisError
from bot.services.port import SlackFailure
from handlers.common import require_account_editor
from handlers.views.submissions import _metadata, _not_teammates, _tell, _values

log = logging.getLogger(__name__)


def _cells(values: dict[str, Any]) -> dict[str, str]:
    """The form's values as the CSV's cells (people as user ids, the team ;-separated)."""
    cells = {}
    for column in accounts.COLUMNS:
        value = values.get(column)
        if isinstance(value, list):
            cells[column] = ";".join(str(v) for v in value)
        else:
            cells[column] = str(value or "")
    return cells


def _no_email(email: str) -> str | None:
    return None  # the form picks people, so it never holds an email


def handle_account_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    deps = deps_of(context)
    user_id = body["user"]["id"]
    values = _values(view)
    metadata = _metadata(view)
    account_id = metadata.get("account_id")
    account_id = account_id if isinstance(account_id, int) else None
    origin = metadata.get("origin_channel_id")
    errors: dict[str, str] = {}
    record = None
    try:
        record = accounts.check_record(
            _cells(values), default_timezone=deps.settings.timezone, lookup_email=_no_email
        )
    except accounts.AccountsFileError as error:
        errors = dict(error.fields)
    outsiders = _not_teammates(
        deps,
        csm=([values.get("csm") or ""], "csm"),
        team=(list(values.get("team") or []), "team"),
    )
    # Every field at fault at once, each next to its field.
    errors = {**outsiders, **errors}
    if errors or record is None:
        ack(response_action="errors", errors=errors or {"name": messages.unexpected_failure()})
        return
    try:
        created = _save(deps, record, account_id, user_id)
    except accounts.AccountsFileError as error:
        ack(response_action="errors", errors=error.fields)
        return
    except CrisisError as error:
        ack()  # not theirs to edit (any more): the form closes, the refusal comes privately
        _tell(deps, user_id=user_id, channel_id=origin, text=str(error))
        return
    except SlackFailure as failure:
        log.warning("account form: %s", failure)
        ack(response_action="errors", errors={"name": messages.account_not_saved(failure.error)})
        return
    ack()
    _tell(
        deps,
        user_id=user_id,
        channel_id=origin,
        text=messages.account_saved(record.name, created=created),
    )


def _save(deps: Deps, record: accounts.AccountRecord, account_id: int | None, user_id: str) -> bool:
    """Check the submitter may (again: the form may have been open a while), then store;
    True when the account is new."""
    with deps.session_factory() as session:
        account = accounts.by_id(session, account_id) if account_id is not None else None
        if account_id is not None and account is None:
            raise CrisisError(messages.account_gone())
        require_account_editor(deps, account, user_id)
        accounts.save(session=session, record=record, now=deps.now(), account_id=account_id)
    return account_id is None
