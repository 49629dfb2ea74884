"""Acknowledge, Post update, Close, Snooze and Hand over buttons."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from bot import messages
from bot.blocks.modals import close_modal, hand_over_modal, update_modal
from bot.db.models import Crisis
from bot.deps import Deps, deps_of
from bot.durations import format_duration
from bot.services import crises, lifecycle
from bot.services.errors import CrisisError
from handlers.common import (
    replying_on_failure,
    require_internal,
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
    ack()
    deps = deps_of(context)
    reply = _reply(respond)

    def work() -> None:
        with replying_on_failure(reply), deps.session_factory() as session:
            crisis = _crisis(deps, session, body)
            require_internal(deps, body["user"]["id"])
            row, created = lifecycle.acknowledge(
                session=session,
                slack=deps.slack,
                settings=deps.settings,
                crisis=crisis,
                user_id=body["user"]["id"],
                via="button",
                now=deps.now(),
            )
            if not created:
                reply(messages.already_acknowledged(row.at))

    deps.later(work)


def _open_modal(
    ack: Ack,
    body: dict[str, Any],
    respond: Respond,
    context: BoltContext,
    *,
    action: str,
    refusal_when_closed: str,
    build: Callable[[Crisis], dict[str, Any]],
) -> None:
    """Open a modal about the button's crisis, for those who may, unless it is closed."""
    ack()
    deps = deps_of(context)
    with replying_on_failure(_reply(respond)), deps.session_factory() as session:
        crisis = _crisis(deps, session, body)
        require_manager(deps, crisis, body["user"]["id"], action=action)
        if crisis.status == "closed":
            raise CrisisError(refusal_when_closed)
        deps.slack.open_view(trigger_id=body["trigger_id"], view=build(crisis))


def handle_open_update(
    ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    def build(crisis: Crisis) -> dict[str, Any]:
        cadence = format_duration(timedelta(seconds=crisis.cadence_seconds)).replace(" ", "")
        return update_modal(crisis_id=crisis.id, customer=crisis.customer, cadence=cadence)

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
        build=lambda crisis: close_modal(crisis_id=crisis.id, customer=crisis.customer),
    )


def handle_snooze(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    deps = deps_of(context)
    reply = _reply(respond)
    with replying_on_failure(reply), deps.session_factory() as session:
        crisis = _crisis(deps, session, body)
        require_manager(deps, crisis, body["user"]["id"], action="snooze the reminders of")
        until = lifecycle.snooze(
            session=session,
            settings=deps.settings,
            crisis=crisis,
            actor_id=body["user"]["id"],
            now=deps.now(),
        )
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
        build=lambda crisis: hand_over_modal(
            crisis_id=crisis.id, customer=crisis.customer, channel_id=crisis.channel_id
        ),
    )
