"""Answers to the questions asked before declaring: a second crisis for the customer, or
which customer a name close to an account's is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from sqlalchemy.orm import Session

from bot import messages
from bot.deps import deps_of
from bot.services import crises
from bot.services.errors import CrisisError
from bot.services.requests import DeclareRequest
from handlers.common import declare_and_tell, hold_if_already_open, replying_on_failure, safe_reply


def handle_declare_anyway(
    ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    """Declare the held declaration; pressed twice, it is declared once."""
    ack()
    value = str(body["actions"][0].get("value", ""))
    # The declarer has seen the open crisis and chose a second one: no question again.
    _declare_held(body, respond, context, value, lambda _session, request: request, ask=False)


def handle_declare_for_account(
    ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    """Yes to "Did you mean *Acme Corp*?": declare the held declaration for that account."""
    ack()
    pending, _, account = str(body["actions"][0].get("value", "")).partition(":")
    account_id = int(account) if account.isdigit() else None

    def for_account(session: Session, request: DeclareRequest) -> DeclareRequest:
        if account_id is None:
            raise CrisisError(messages.held_declaration_gone())
        return crises.for_account(request, crises.account_by_id(session, account_id))

    _declare_held(body, respond, context, pending, for_account)


def handle_declare_new_customer(
    ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    """No to "Did you mean *Acme Corp*?": declare it for a new customer, by the name typed."""
    ack()
    value = str(body["actions"][0].get("value", ""))
    _declare_held(body, respond, context, value, lambda _session, request: request)


def _declare_held(
    body: dict[str, Any],
    respond: Respond,
    context: BoltContext,
    pending: str,
    choose: Callable[[Session, DeclareRequest], DeclareRequest],
    *,
    ask: bool = True,
) -> None:
    """After the ack: the held declaration as the declarer chose, asking once more (``ask``)
    if that customer already has an open crisis; each answer declares it once, whichever is
    pressed. Never replacing the question, so its link to the open crisis stays."""
    deps = deps_of(context)
    user_id = body["user"]["id"]
    reply = safe_reply(lambda text: respond(text=text, replace_original=False))

    def work() -> None:
        with replying_on_failure(reply):
            if not pending.isdigit():
                raise CrisisError(messages.held_declaration_gone())
            with deps.session_factory() as session:
                held = crises.held_declaration(session, pending_id=int(pending), user_id=user_id)
                request = choose(session, held)
            question = hold_if_already_open(deps, request, pending_id=int(pending)) if ask else None
            if question is not None:
                respond(text=question[0], blocks=question[1], replace_original=False)
                return
            declare_and_tell(deps, request, reply)

    deps.later(work)


def handle_go_to_crisis(ack: Ack) -> None:
    """A link button: Slack opens the channel and tells us about the click; nothing to do."""
    ack()
