"""The one gate in front of every listener: only teammates use crisisbot.

People from another organisation (Slack Connect) and guests never act through a command, a
button, a form or a reaction. The app's global middleware calls ``refuse_outsiders`` for every
request, so a listener added later is guarded without doing anything.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import BoltResponse, Respond

from bot import messages
from bot.deps import Deps
from bot.services.port import Person, SlackFailure
from bot.slack_retry import retrying_for
from handlers.common import safe_reply

log = logging.getLogger(__name__)
# Slack wants the ack within 3 s: who the person is may be retried for 1.5 s of that.
BEFORE_ACK_RETRY_FOR = 1.5


def acting_user(body: dict[str, Any]) -> str | None:
    """Who is acting in a request: the command's user, the one who clicked or submitted, the
    one an event is about (``event.user``); None for events without a person."""
    if body.get("type") == "event_callback":
        user = (body.get("event") or {}).get("user")
        return user if isinstance(user, str) and user else None
    if "command" in body:
        return str(body.get("user_id") or "") or None
    user = body.get("user")
    if isinstance(user, dict):
        return str(user.get("id") or "") or None
    if isinstance(user, str):
        return user or None
    return str(body.get("user_id") or "") or None


def refuse_outsiders(
    deps: Deps, body: dict[str, Any], respond: Respond | None
) -> BoltResponse | None:
    """None when the request may go on to its listener; otherwise the refusal to answer with.

    A command is refused in its acknowledgement, a form with an error on the form, a button
    privately through its ``response_url``; an event is dropped. Nothing else happens.
    """
    user_id = acting_user(body)
    if user_id is None or user_id == deps.slack.bot_user_id:
        return None
    try:
        # Before the ack: a flaky Slack gets a short retry here, then a clear "try again".
        with retrying_for(BEFORE_ACK_RETRY_FOR):
            person = deps.slack.person(user=user_id)
    except SlackFailure as failure:
        # Not knowing who it is, do nothing rather than let a stranger in.
        log.warning("cannot tell who %s is, so their request is refused: %s", user_id, failure)
        return _refuse(deps, body, respond, messages.identity_unchecked(failure.error))
    if person.is_teammate:
        return None
    log.info(
        "refused a %s from %s (%s)",
        _kind(body),
        user_id,
        "a guest" if person.guest else "another organisation",
    )
    return _refuse(deps, body, respond, _refusal(person))


def _refusal(person: Person) -> str:
    return messages.guest_user() if person.guest else messages.external_user()


def _kind(body: dict[str, Any]) -> str:
    if "command" in body:
        return f"command {body.get('command')}"
    if body.get("type") == "event_callback":
        return f"{(body.get('event') or {}).get('type')} event"
    return str(body.get("type") or "request")


def _refuse(deps: Deps, body: dict[str, Any], respond: Respond | None, text: str) -> BoltResponse:
    if "command" in body:
        # The acknowledgement itself says no: nothing is started, nothing follows.
        return BoltResponse(status=200, body=text)
    if body.get("type") == "event_callback":
        return BoltResponse(status=200, body="")
    if body.get("type") == "block_suggestion":
        # A type-ahead offers them nothing: our accounts are not theirs to read.
        return BoltResponse(status=200, body={"options": []})
    if body.get("type") == "view_submission":
        # Slack shows a form's refusal next to one of its fields; the form stays open.
        fields = list(((body.get("view") or {}).get("state") or {}).get("values") or {})
        if fields:
            errors = {fields[0]: text}
            return BoltResponse(status=200, body={"response_action": "errors", "errors": errors})
        return BoltResponse(status=200, body="")
    if respond is not None and body.get("response_url"):
        # Privately, after the ack, and never replacing the message the button sits on.
        tell = safe_reply(lambda text: respond(text=text, replace_original=False))
        deps.later(lambda: tell(text))
    return BoltResponse(status=200, body="")
