"""Buttons: Acknowledge, Post update, Close, Snooze, Hand over; I'll help and Take over on an
escalation; Checked in and Reopen on the follow-up; Declare a crisis on the Home tab."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from bot import messages
from bot.blocks.card import done_blocks
from bot.blocks.modals import (
    close_modal,
    declare_modal,
    hand_over_modal,
    reopen_modal,
    update_modal,
)
from bot.db.models import Crisis
from bot.deps import Deps, deps_of
from bot.durations import format_duration
from bot.enums import AckVia, CrisisStatus
from bot.services import crises, lifecycle, telling
from bot.services.errors import CrisisError
from bot.services.scope import Scope
from handlers.common import (
    replying_on_failure,
    require_manager,
    safe_reply,
)


def _reply(respond: Respond) -> Any:
    # Ephemeral, and never replacing the card or the reminder the button sits on.
    return safe_reply(lambda text: respond(text=text, replace_original=False))


def _crisis(deps: Deps, session: Any, body: dict[str, Any]) -> Crisis:
    value = body["actions"][0].get("value", "")
    crisis = crises.by_id(session, int(value)) if value.isdigit() else None
    if crisis is None:
        raise CrisisError(messages.crisis_gone())
    return crisis


def handle_acknowledge(
    ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    def acknowledge(deps: Deps, scope: Scope, crisis: Crisis, user_id: str) -> str | None:
        row, created = lifecycle.acknowledge(
            scope, crisis=crisis, user_id=user_id, via=AckVia.BUTTON
        )
        return None if created else messages.already_acknowledged(row.at)

    _later_on_crisis(ack, body, respond, context, acknowledge)


def _open_modal(
    ack: Ack,
    body: dict[str, Any],
    respond: Respond,
    context: BoltContext,
    *,
    action: str,
    refusal_when_closed: str,
    build: Callable[[Scope, Crisis], dict[str, Any]],
) -> None:
    """Open a modal about the button's crisis, for those who may, unless it is closed."""
    ack()
    deps = deps_of(context)
    with replying_on_failure(_reply(respond)), deps.session_factory() as session:
        crisis = _crisis(deps, session, body)
        require_manager(deps, crisis, body["user"]["id"], action=action)
        if crisis.status == CrisisStatus.CLOSED:
            raise CrisisError(refusal_when_closed)
        deps.slack.open_view(trigger_id=body["trigger_id"], view=build(deps.scope(session), crisis))


def handle_open_update(
    ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    def build(scope: Scope, crisis: Crisis) -> dict[str, Any]:
        cadence = format_duration(timedelta(seconds=crisis.cadence_seconds)).replace(" ", "")
        return update_modal(
            crisis_id=crisis.id,
            customer=crisis.customer,
            cadence=cadence,
            customer_message=telling.update_suggestion(scope, crisis=crisis),
        )

    _open_modal(
        ack,
        body,
        respond,
        context,
        build=build,
        action="post updates for",
        refusal_when_closed=messages.crisis_closed("post an update"),
    )


def handle_open_close(
    ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    _open_modal(
        ack,
        body,
        respond,
        context,
        action="close",
        refusal_when_closed=messages.already_closed(),
        build=lambda scope, crisis: close_modal(
            crisis_id=crisis.id,
            customer=crisis.customer,
            closure_message=telling.closure_suggestion(
                scope,
                crisis=crisis,
                resolved=messages.closure_resolved_placeholder(),
                follow_ups="",
            ),
        ),
    )


def handle_snooze(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    deps = deps_of(context)
    reply = _reply(respond)
    with replying_on_failure(reply), deps.session_factory() as session:
        crisis = _crisis(deps, session, body)
        require_manager(deps, crisis, body["user"]["id"], action="snooze the reminders of")
        until = lifecycle.snooze(deps.scope(session), crisis=crisis, actor_id=body["user"]["id"])
        reply(messages.snoozed(until))


def handle_open_hand_over(
    ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    _open_modal(
        ack,
        body,
        respond,
        context,
        action="hand over",
        refusal_when_closed=messages.crisis_closed("hand it over"),
        build=lambda scope, crisis: hand_over_modal(
            crisis_id=crisis.id, customer=crisis.customer, channel_id=crisis.channel_id
        ),
    )


def handle_help(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    """*I'll help* on an escalation: join as a responder, invited into the channel."""

    def join(deps: Deps, scope: Scope, crisis: Crisis, user_id: str) -> str:
        assert crisis.channel_id is not None
        if user_id == crisis.owner_id:
            return messages.you_own_it(crisis.channel_id)
        if user_id in crisis.responders:
            # Already in: make sure they are in the channel too (harmless if they are).
            scope.slack.invite(channel=crisis.channel_id, users=[user_id])
            return messages.already_helping(crisis.channel_id)
        lifecycle.add_responders(scope, crisis=crisis, actor_id=user_id, user_ids=[user_id])
        return messages.helping(crisis.customer, crisis.channel_id)

    _later_on_crisis(ack, body, respond, context, join)


def handle_take_over(
    ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    """*Take over* on an escalation: become the owner, as a hand-over does."""

    def take(deps: Deps, scope: Scope, crisis: Crisis, user_id: str) -> str:
        assert crisis.channel_id is not None
        if user_id == crisis.owner_id:
            return messages.you_own_it(crisis.channel_id)
        lifecycle.hand_over(scope, crisis=crisis, actor_id=user_id, new_owner_id=user_id)
        return messages.took_over_reply(
            crisis.customer, crisis.channel_id, crisis.next_update_due_at
        )

    _later_on_crisis(ack, body, respond, context, take)


def handle_checked_in(
    ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    """*Checked in with the customer* on the follow-up DM: recorded, and the DM says so."""
    container = body.get("container") or {}

    def check_in(deps: Deps, scope: Scope, crisis: Crisis, user_id: str) -> str | None:
        require_manager(deps, crisis, user_id, action="record a check-in for")
        at, recorded = lifecycle.check_in(scope, crisis=crisis, actor_id=user_id)
        if not recorded:
            return messages.already_checked_in(at)
        text = messages.checked_in(crisis.customer, user_id, at)
        channel, ts = container.get("channel_id"), container.get("message_ts")
        if not (channel and ts):
            return text
        deps.slack.update(channel=channel, ts=ts, text=text, blocks=done_blocks(text))
        return None

    _later_on_crisis(ack, body, respond, context, check_in)


def _later_on_crisis(
    ack: Ack,
    body: dict[str, Any],
    respond: Respond,
    context: BoltContext,
    act: Callable[[Deps, Scope, Crisis, str], str | None],
) -> None:
    """A button's work on its crisis, after the ack; ``act``'s answer (if any) is the reply."""
    ack()
    deps = deps_of(context)
    reply = _reply(respond)
    user_id = body["user"]["id"]

    def work() -> None:
        with replying_on_failure(reply), deps.session_factory() as session:
            crisis = _crisis(deps, session, body)
            answer = act(deps, deps.scope(session), crisis, user_id)
            if answer:
                reply(answer)

    deps.later(work)


def handle_open_reopen(
    ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    """*Reopen* on the follow-up DM: a form that asks why."""
    ack()
    deps = deps_of(context)
    with replying_on_failure(_reply(respond)), deps.session_factory() as session:
        crisis = _crisis(deps, session, body)
        require_manager(deps, crisis, body["user"]["id"], action="reopen")
        if crisis.status != CrisisStatus.CLOSED:
            raise CrisisError(messages.crisis_already_open())
        view = reopen_modal(crisis_id=crisis.id, customer=crisis.customer)
        deps.slack.open_view(trigger_id=body["trigger_id"], view=view)


def handle_home_declare(
    ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    """*Declare a crisis* on the Home tab: the declare form, at once (the trigger expires)."""
    ack()
    deps = deps_of(context)
    user_id = body["user"]["id"]
    with replying_on_failure(_tell_by_dm(deps, user_id)):
        view = declare_modal(user_id=user_id, origin_channel_id=None)
        deps.slack.open_view(trigger_id=body["trigger_id"], view=view)


def _tell_by_dm(deps: Deps, user_id: str) -> Any:
    # A Home tab click has no channel to answer in.
    return safe_reply(lambda text: deps.slack.dm(user=user_id, text=text))
