"""The outage card's *Broadcast to customers* and the preview's *Send*."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from bot import messages
from bot.blocks.outage import broadcast_form
from bot.db.models import Outage
from bot.deps import deps_of
from bot.services import outages
from bot.services.errors import CrisisError
from handlers.common import replying_on_failure, safe_reply


def _number(value: object) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() else None


def handle_open_broadcast(
    ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    """*Broadcast to customers* on the card: the form, opened at once (the trigger expires)."""
    ack()
    deps = deps_of(context)
    reply = safe_reply(lambda text: respond(text=text, replace_original=False))
    with replying_on_failure(reply), deps.session_factory() as session:
        outage_id = _number(body["actions"][0].get("value"))
        outage = session.get(Outage, outage_id) if outage_id is not None else None
        if outage is None:
            raise CrisisError(messages.broadcast_gone())
        if outage.status == "closed":
            raise CrisisError(messages.outage_already_closed())
        deps.slack.open_view(
            trigger_id=body["trigger_id"], view=broadcast_form(outage_id=outage.id)
        )


def handle_send_broadcast(
    ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    """*Send*: every account's message out once, however often it is pressed."""
    ack()
    deps = deps_of(context)
    user_id = body["user"]["id"]
    reply = safe_reply(lambda text: respond(text=text, replace_original=False))

    def work() -> None:
        with replying_on_failure(reply), deps.session_factory() as session:
            broadcast_id = _number(body["actions"][0].get("value"))
            if broadcast_id is None:
                raise CrisisError(messages.broadcast_gone())
            result = outages.send_broadcast(
                deps.scope(session),
                broadcast_id=broadcast_id,
                user_id=user_id,
                session_factory=deps.session_factory,
            )
            if result.already:
                reply(messages.broadcast_already())
                return
            if not result.finished:
                respond(
                    text=messages.broadcast_handed_over(len(result.posted), len(result.copies)),
                    replace_original=True,
                )
                return
            respond(
                text=messages.broadcast_reply(len(result.posted), len(result.copies)),
                replace_original=True,
            )

    deps.later(work)
