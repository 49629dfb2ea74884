"""The buttons under a ``/crisis tell`` preview: *Send to <customer>*, *I sent it*, *Edit*."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from bot import messages
from bot.blocks.telling import edit_form, preview_blocks
from bot.deps import deps_of
from bot.enums import CustomerMessagePurpose
from bot.services import crises, telling
from bot.services.errors import CrisisError
from bot.services.scope import Scope
from bot.services.telling import Sent
from handlers.common import Reply, replying_on_failure, require_manager, safe_reply

ACTION = "tell the customer of"


def _message_id(body: dict[str, Any]) -> int:
    value = str(body["actions"][0].get("value", ""))
    if not value.isdigit():
        raise CrisisError(messages.customer_message_gone())
    return int(value)


def handle_send_to_customer(
    ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    """Send the draft to the customer channel: pressed twice, it goes once."""

    def send(scope: Scope, message_id: int, user_id: str, reply: Reply) -> None:
        result = telling.send(scope, message_id=message_id, user_id=user_id)
        match result.outcome:
            case Sent.SENT:
                assert result.record.channel is not None
                respond(
                    text=messages.customer_sent_reply(
                        result.preview.customer, result.record.channel
                    ),
                    replace_original=True,
                )
            case Sent.ALREADY:
                reply(messages.customer_message_done(result.record.status, result.record.sent_by))
            case Sent.NO_WAY_IN:
                blocks = preview_blocks(result.preview, not_in_channel=True)
                respond(text=result.preview.text, blocks=blocks, replace_original=True)

    _on_draft(ack, body, respond, context, send)


def handle_customer_told(
    ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    """*I sent it*: the customer has the copy; recorded once, and the promise renewed."""

    def mark_told(scope: Scope, message_id: int, user_id: str, reply: Reply) -> None:
        record, recorded = telling.told(scope, message_id=message_id, user_id=user_id)
        if not recorded:
            reply(messages.customer_message_done(record.status, record.sent_by))
            return
        crisis = record.crisis
        customer = crisis.account.name if crisis.account else crisis.customer
        respond(text=messages.customer_told_reply(customer), replace_original=True)

    _on_draft(ack, body, respond, context, mark_told)


def _on_draft(
    ack: Ack,
    body: dict[str, Any],
    respond: Respond,
    context: BoltContext,
    act: Callable[[Scope, int, str, Reply], None],
) -> None:
    """A button on a draft, after the ack, for those who may tell its crisis's customer."""
    ack()
    deps = deps_of(context)
    user_id = body["user"]["id"]
    reply = safe_reply(lambda text: respond(text=text, replace_original=False))

    def work() -> None:
        with replying_on_failure(reply), deps.session_factory() as session:
            scope = deps.scope(session)
            message_id = _message_id(body)
            record = telling.message_by_id(scope, message_id=message_id)
            require_manager(deps, record.crisis, user_id, action=ACTION)
            act(scope, message_id, user_id, reply)

    deps.later(work)


def handle_send_check_in(
    ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    """*Send check-in* on the follow-up DM: the suggested check-in becomes a draft, shown as
    the customer will see it, with the same *Send* / *Edit* as ``/crisis tell``."""
    ack()
    deps = deps_of(context)
    user_id = body["user"]["id"]
    reply = safe_reply(lambda text: respond(text=text, replace_original=False))

    def work() -> None:
        with replying_on_failure(reply), deps.session_factory() as session:
            scope = deps.scope(session)
            value = str(body["actions"][0].get("value", ""))
            crisis = crises.by_id(session, int(value)) if value.isdigit() else None
            if crisis is None:
                raise CrisisError(messages.crisis_gone())
            require_manager(deps, crisis, user_id, action="check in with the customer of")
            text = telling.check_in_suggestion(crisis, templates_dir=deps.settings.templates_dir)
            if text is None:
                raise CrisisError(messages.tell_no_account(crisis.customer))
            shown = telling.prepare(
                scope,
                crisis=crisis,
                author_id=user_id,
                text=text,
                purpose=CustomerMessagePurpose.CHECK_IN,
            )
            respond(text=shown.text, blocks=preview_blocks(shown), replace_original=False)

    deps.later(work)


def handle_edit_customer_message(
    ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    """*Edit*: the draft's text in a small form (opened at once: the trigger expires)."""
    ack()
    deps = deps_of(context)
    reply = safe_reply(lambda text: respond(text=text, replace_original=False))
    with replying_on_failure(reply), deps.session_factory() as session:
        record = telling.message_by_id(deps.scope(session), message_id=_message_id(body))
        crisis = record.crisis
        customer = crisis.account.name if crisis.account is not None else crisis.customer
        deps.slack.open_view(
            trigger_id=body["trigger_id"],
            view=edit_form(
                message_id=record.id, customer=customer, text=record.text, note=record.note
            ),
        )
