"""Reactions: the ack emoji acknowledges, the update emoji turns a message into the update."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import BoltContext
from sqlalchemy.orm import Session

from bot import messages
from bot.deps import Deps, deps_of
from bot.enums import AckVia
from bot.services import crises, handled, lifecycle
from bot.services.requests import UpdateContent
from bot.text import from_slack
from handlers.common import replying_on_failure, require_manager, safe_reply

log = logging.getLogger(__name__)


def handle_reaction_added(
    event: dict[str, Any], body: dict[str, Any], context: BoltContext
) -> None:
    deps = deps_of(context)
    event_id = body.get("event_id")
    deps.later(lambda: _handle(deps, event, str(event_id) if event_id else None))


def _handle(deps: Deps, event: dict[str, Any], event_id: str | None) -> None:
    """Marked handled with its effect, or once it is clear there is none; an event that fails
    before is handled again when Slack retries it."""
    with deps.session_factory() as session:
        if _react(deps, session, event, event_id):
            handled.mark_alone(session, event_id, at=deps.now())


def _react(deps: Deps, session: Session, event: dict[str, Any], event_id: str | None) -> bool:
    """Do what the reaction asks; True when done (or nothing to do), False when it failed."""
    item = event.get("item") or {}
    if item.get("type") != "message":
        return True
    channel, ts, user_id = item.get("channel", ""), item.get("ts", ""), event.get("user", "")
    reaction = event.get("reaction", "").split("::")[0]  # skin tones: "eyes::skin-tone-2"
    settings = deps.settings

    def tell(text: str) -> None:
        deps.slack.ephemeral(channel=channel, user=user_id, text=text)

    reply = safe_reply(lambda text: tell(text))
    if reaction == settings.ack_emoji:
        crisis = crises.by_message(session, channel, ts)
        if crisis is None:
            return True  # an eyes emoji on any other message is just an emoji
        with replying_on_failure(reply, crisis_id=crisis.id):
            if channel == crisis.announce_channel_id and ts == crisis.announce_ts:
                # From the announcement: bring them to where the crisis is run.
                joined = lifecycle.join_from_announcement(
                    deps.scope(session), crisis=crisis, user_id=user_id, event_id=event_id
                )
                reply(messages.joined_from_announcement(joined))
                return True
            lifecycle.acknowledge(
                deps.scope(session),
                crisis=crisis,
                user_id=user_id,
                via=AckVia.REACTION,
                event_id=event_id,
            )
            return True
    elif reaction == settings.update_emoji:
        crisis = crises.by_channel(session, channel)
        if crisis is None:
            return True
        with replying_on_failure(reply, crisis_id=crisis.id):
            require_manager(deps, crisis, user_id, action="post updates for")
            message = deps.slack.fetch_message(channel=channel, ts=ts)
            if message is None or not message.text.strip():
                reply(messages.update_reaction_unusable())
                return True
            if message.user is None or message.user == deps.slack.bot_user_id:
                reply(messages.update_reaction_unusable())
                return True
            update = lifecycle.post_update(
                deps.scope(session),
                crisis=crisis,
                author_id=user_id,
                content=UpdateContent(
                    # Slack's escaped text and mention tokens, back to what was typed.
                    text=from_slack(message.text),
                    quoted_author=message.user,
                    source_ts=ts,
                ),
                event_id=event_id,
            )
            reply(messages.update_recorded(update.next_update_due_at, update.promised_in_zone))
            return True
    else:
        return True
    return False  # refused or failed: the user was told; a retry of it is handled again
