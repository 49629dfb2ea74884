"""The question asked when the customer already has an open crisis: go there, or declare."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from bot import messages
from bot.deps import deps_of
from bot.services import crises
from bot.services.errors import CrisisError
from handlers.common import declare_and_tell, replying_on_failure, safe_reply


def handle_declare_anyway(
    ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    """Declare the held declaration; pressed twice, it is declared once."""
    ack()
    deps = deps_of(context)
    user_id = body["user"]["id"]
    value = str(body["actions"][0].get("value", ""))
    # Ephemeral, and never replacing the question, so its link to the open crisis stays.
    reply = safe_reply(lambda text: respond(text=text, replace_original=False))

    def work() -> None:
        with replying_on_failure(reply):
            if not value.isdigit():
                raise CrisisError(messages.held_declaration_gone())
            with deps.session_factory() as session:
                request = crises.held_declaration(session, pending_id=int(value), user_id=user_id)
            declare_and_tell(deps, request, reply)

    deps.later(work)


def handle_go_to_crisis(ack: Ack) -> None:
    """A link button: Slack opens the channel and tells us about the click; nothing to do."""
    ack()
