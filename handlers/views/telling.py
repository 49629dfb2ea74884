"""The *Edit* form of a message for the customer: on submit, the preview again."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, BoltContext

from bot import messages
from bot.blocks.telling import preview_blocks
from bot.deps import deps_of
from bot.services import telling
from handlers.actions.telling import ACTION
from handlers.common import replying_on_failure, require_manager, safe_reply


def handle_customer_message_edit(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    deps = deps_of(context)
    user_id = body["user"]["id"]
    values = view.get("state", {}).get("values", {})
    text = str(values.get("text", {}).get("value", {}).get("value") or "")
    note = str(values.get("note", {}).get("value", {}).get("value") or "")
    if not text.strip():
        ack(response_action="errors", errors={"text": messages.tell_text_missing()})
        return
    ack()
    try:
        message_id = int(json.loads(view.get("private_metadata") or "{}").get("message_id"))
    except (TypeError, ValueError):
        message_id = 0
    reply = safe_reply(lambda text: deps.slack.dm(user=user_id, text=text))

    def work() -> None:
        with replying_on_failure(reply), deps.session_factory() as session:
            scope = deps.scope(session)
            record = telling.message_by_id(scope, message_id=message_id)
            require_manager(deps, record.crisis, user_id, action=ACTION)
            crisis, preview = telling.revise(
                scope, message_id=message_id, user_id=user_id, text=text, note=note
            )
            assert crisis.channel_id is not None
            deps.slack.ephemeral(
                channel=crisis.channel_id,
                user=user_id,
                text=preview.text,
                blocks=preview_blocks(preview),
            )

    deps.later(work)
