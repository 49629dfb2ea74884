"""Declare, update, close and hand-over modals: validate in the ack, then act."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from slack_bolt import Ack, BoltContext

from bot import messages
from bot.blocks import modals
from bot.blocks.telling import preview_blocks
from bot.db.models import Crisis
from bot.deps import Deps, deps_of
from bot.domain import DEFAULT_SEVERITY, NOT_A_CRISIS
from bot.durations import DurationError, parse_duration
from bot.enums import CrisisKind
from bot.services import crises, lifecycle, telling
from bot.services.errors import CrisisError
from bot.services.permissions import Role
from bot.services.port import Blocks, SlackFailure
from bot.services.requests import UpdateContent, declare_request
from bot.services.scope import Scope
from handlers.common import (
    declare_and_tell,
    hold_if_already_open,
    replying_on_failure,
    require_manager,
    require_teammates,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
MODAL_FIELDS = ("customer", "experienced", "expected", "kind", "severity", "owner", "responders")


def _values(view: dict[str, Any]) -> dict[str, Any]:
    """Each input block's value, whatever its element type."""
    out: dict[str, Any] = {}
    for block_id, actions in view.get("state", {}).get("values", {}).items():
        element: dict[str, Any] = next(iter(actions.values()), {})
        if "selected_option" in element:
            option = element["selected_option"]
            out[block_id] = option["value"] if option else None
        elif "selected_users" in element:
            out[block_id] = element["selected_users"] or []
        elif "selected_user" in element:
            out[block_id] = element["selected_user"]
        else:
            out[block_id] = element.get("value") or ""
    return out


def _customer(view: dict[str, Any]) -> tuple[int | None, str]:
    """The customer field: (an account's id, its name) picked from the type-ahead, or (None,
    a new customer's name), picked as "New customer: …" (or typed, in an older form)."""
    fields = view.get("state", {}).get("values", {}).get("customer", {})
    element: dict[str, Any] = next(iter(fields.values()), {})
    option = element.get("selected_option")
    if isinstance(option, dict):
        label = str((option.get("text") or {}).get("text") or "")
        return modals.customer_choice(str(option.get("value") or ""), label)
    return None, str(element.get("value") or "")


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _tell(
    deps: Deps,
    *,
    user_id: str,
    channel_id: str | None,
    text: str,
    blocks: Blocks | None = None,
) -> None:
    """Tell one person privately: in the channel they came from, or by DM."""
    try:
        if channel_id and not channel_id.startswith("D"):
            deps.slack.ephemeral(channel=channel_id, user=user_id, text=text, blocks=blocks)
            return
    except SlackFailure:
        pass  # not a channel the bot is in; a DM always works
    try:
        deps.slack.dm(user=user_id, text=text, blocks=blocks)
    except SlackFailure as failure:
        log.warning("could not tell %s: %s", user_id, failure)


def handle_declare_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    deps = deps_of(context)
    user_id = body["user"]["id"]
    values = _values(view)
    origin = _metadata(view).get("origin_channel_id")
    if values.get("kind") == NOT_A_CRISIS:
        ack()
        _tell(
            deps,
            user_id=user_id,
            channel_id=origin,
            text=messages.not_a_crisis(deps.settings.self_service_links),
        )
        return
    errors: dict[str, str] = {}
    request = None
    account_id, customer = _customer(view)
    try:
        request = declare_request(
            customer=customer,
            experienced=values.get("experienced", ""),
            expected=values.get("expected", ""),
            kind=values.get("kind") or CrisisKind.UNTRIAGED,
            severity=values.get("severity") or DEFAULT_SEVERITY,
            declared_by=user_id,
            owner_id=values.get("owner") or user_id,
            responders=values.get("responders") or [],
            origin_channel_id=origin,
            source_key=f"view:{view.get('id', '')}" if view.get("id") else None,
        )
    except CrisisError as error:
        for field, problem in error.fields.items():
            block = {"owner_id": "owner", "declared_by": "owner"}.get(field, field)
            errors.setdefault(block if block in MODAL_FIELDS else "customer", problem)
    if request is not None:
        try:
            with deps.session_factory() as session:
                # The account picked (or named exactly): its name, CSM, team and cadence.
                request = crises.link_account(
                    session, request, account_id=account_id, owner_named=bool(values.get("owner"))
                )
        except CrisisError as error:
            at = error.field if error.field in MODAL_FIELDS else "customer"
            errors.setdefault(at or "customer", str(error))
    if not str(values.get("experienced") or "").strip():
        # Optional in the model (commands always carry it); the form asks for it.
        errors.setdefault("experienced", messages.experienced_missing())
    outsiders = _not_teammates(
        deps,
        owner=([values.get("owner") or user_id], "own"),
        responders=(values.get("responders") or [], "respond"),
    )
    errors = {**errors, **outsiders}
    if errors or request is None:
        # Every field at fault at once, each next to its field.
        ack(response_action="errors", errors=errors or {"customer": messages.unexpected_failure()})
        return
    ack()
    declaring = request

    def reply(text: str) -> None:
        _tell(deps, user_id=user_id, channel_id=origin, text=text)

    def declare_or_ask() -> None:
        question = None
        with replying_on_failure(reply):
            question = hold_if_already_open(deps, declaring)
            if question is None:
                declare_and_tell(deps, declaring, reply)
        if question is not None:
            _tell(deps, user_id=user_id, channel_id=origin, text=question[0], blocks=question[1])

    deps.later(declare_or_ask)


def _not_teammates(deps: Deps, **fields: tuple[list[str], Role]) -> dict[str, str]:
    """A form's errors for each field naming someone from another organisation or a guest."""
    errors: dict[str, str] = {}
    for field, (user_ids, role) in fields.items():
        try:
            require_teammates(deps, user_ids, role=role, field=field)
        except CrisisError as error:
            errors[field] = str(error)
        except SlackFailure as failure:
            # The form can't wait for Slack: the check after the ack refuses or reports.
            log.warning("could not check the people in the %s field: %s", field, failure)
    return errors


def _crisis_action(ack_errors: dict[str, str] | None, ack: Ack) -> bool:
    if ack_errors:
        ack(response_action="errors", errors=ack_errors)
        return False
    ack()
    return True


def handle_update_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    deps = deps_of(context)
    user_id = body["user"]["id"]
    values = _values(view)
    errors: dict[str, str] = {}
    if not str(values.get("what_happened", "")).strip():
        errors["what_happened"] = 'Say what happened, even if it is "still investigating".'
    if not str(values.get("doing", "")).strip():
        errors["doing"] = "Say what we are doing about it."
    try:
        next_in = parse_duration(str(values.get("next_in") or ""))
    except DurationError as error:
        errors["next_in"] = str(error)
        next_in = None
    if not _crisis_action(errors, ack):
        return
    customer_text = str(values.get(modals.CUSTOMER_MESSAGE) or "")
    note = str(values.get(modals.INTERNAL_NOTE) or "").strip()
    next_steps = str(values.get("next_steps", ""))
    if note and not customer_text.strip():
        # No message for the customer to keep it beside: the team reads it in the update.
        next_steps = f"{next_steps.strip()}\n{note}".strip()
    content = UpdateContent(
        what_happened=values["what_happened"],
        doing=values["doing"],
        next_steps=next_steps,
        next_in=next_in,
        # A redelivered submission of the same form is the same update.
        source_ts=f"view:{view['id']}" if view.get("id") else None,
    )

    def post(scope: Scope, crisis: Crisis) -> None:
        update, shown = telling.update_with_message(
            scope,
            crisis=crisis,
            author_id=user_id,
            content=content,
            customer_text=customer_text,
            note=note,
        )
        # The same confirmation as `/crisis update` gives, then the customer's preview.
        recorded = messages.update_recorded(update.next_update_due_at, update.promised_in_zone)
        _tell(deps, user_id=user_id, channel_id=None, text=recorded)
        if shown is not None:
            _show_preview(deps, user_id, shown)

    _run_on_crisis(deps, view, user_id, post, action="post updates for")


def handle_close_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    deps = deps_of(context)
    user_id = body["user"]["id"]
    values = _values(view)
    resolution = str(values.get("resolution", "")).strip()
    errors = {} if resolution else {"resolution": "Say how it was resolved."}
    if not _crisis_action(errors, ack):
        return
    confirmed = {"yes": True, "no": False}.get(values.get("confirmed") or "")
    follow_ups: str = values.get("follow_ups", "")
    prevention = str(values.get(modals.PREVENTION) or "")
    closure_text = str(values.get(modals.CUSTOMER_MESSAGE) or "")

    def close(scope: Scope, crisis: Crisis) -> None:
        follow_up_at, shown = telling.close_with_message(
            scope,
            crisis=crisis,
            actor_id=user_id,
            resolution=resolution,
            follow_ups=follow_ups,
            confirmed=confirmed,
            closure_text=closure_text,
            prevention=prevention,
        )
        _tell(deps, user_id=user_id, channel_id=None, text=messages.closed_reply(follow_up_at))
        if shown is not None:
            _show_preview(deps, user_id, shown)

    _run_on_crisis(deps, view, user_id, close, action="close")


def _show_preview(deps: Deps, user_id: str, shown: telling.Preview) -> None:
    """A form's message for the customer, as ``/crisis tell`` shows it: by DM, to send."""
    _tell(deps, user_id=user_id, channel_id=None, text=shown.text, blocks=preview_blocks(shown))


def handle_hand_over_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    deps = deps_of(context)
    user_id = body["user"]["id"]
    new_owner = str(_values(view).get("owner") or "")
    errors = (
        _not_teammates(deps, owner=([new_owner], "own"))
        if new_owner
        else {"owner": "Pick the new owner."}
    )
    if not _crisis_action(errors, ack):
        return
    _run_on_crisis(
        deps,
        view,
        user_id,
        lambda scope, crisis: lifecycle.hand_over(
            scope, crisis=crisis, actor_id=user_id, new_owner_id=new_owner
        ),
        action="hand over",
    )


def handle_reopen_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    deps = deps_of(context)
    user_id = body["user"]["id"]
    reason = str(_values(view).get("reason", "")).strip()
    if not _crisis_action(None if reason else {"reason": "Say why it is being reopened."}, ack):
        return
    _run_on_crisis(
        deps,
        view,
        user_id,
        lambda scope, crisis: lifecycle.reopen(
            scope, crisis=crisis, actor_id=user_id, reason=reason
        ),
        action="reopen",
        confirm=lambda promised: messages.reopened_reply(promised.at, promised.zone),
    )


def _run_on_crisis(
    deps: Deps,
    view: dict[str, Any],
    user_id: str,
    act: Callable[[Scope, Crisis], T],
    *,
    action: str,
    confirm: Callable[[T], str] | None = None,
) -> None:
    """Run ``act`` (a lifecycle service) on the modal's crisis; failures, and
    ``confirm(result)`` when given, reach the user by DM."""
    crisis_id = _metadata(view).get("crisis_id")

    def reply(text: str) -> None:
        _tell(deps, user_id=user_id, channel_id=None, text=text)

    deps.later(lambda: _run(deps, crisis_id, user_id, reply, act, action, confirm))


def _run(
    deps: Deps,
    crisis_id: object,
    user_id: str,
    reply: Callable[[str], None],
    act: Callable[[Scope, Crisis], T],
    action: str,
    confirm: Callable[[T], str] | None,
) -> None:
    known = crisis_id if isinstance(crisis_id, int) else None
    with replying_on_failure(reply, crisis_id=known), deps.session_factory() as session:
        crisis = crises.by_id(session, known) if known is not None else None
        if crisis is None:
            raise CrisisError(messages.crisis_gone())
        require_manager(deps, crisis, user_id, action=action)
        result = act(deps.scope(session), crisis)
        if confirm is not None:
            reply(confirm(result))
