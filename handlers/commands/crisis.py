"""``/crisis``: parse, then declare, update, close, hand over, list…"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from bot import messages
from bot.blocks.listing import list_blocks, status_blocks
from bot.blocks.modals import declare_modal
from bot.blocks.report import report_blocks
from bot.blocks.telling import preview_blocks
from bot.deps import Deps, deps_of
from bot.enums import AckVia, Subcommand
from bot.parsing import Command, UsageError, parse
from bot.services import crises, ledger, lifecycle, report, telling
from bot.services.errors import CrisisError
from bot.services.requests import DeclareRequest, UpdateContent, declare_request
from bot.text import safe
from handlers.commands.accounts import run_account_command
from handlers.commands.outage import run_outage_command
from handlers.common import (
    Reply,
    ask_before_declaring,
    declare_and_tell,
    replying_on_failure,
    require_manager,
    safe_reply,
)

log = logging.getLogger(__name__)


def handle_crisis_command(
    ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    """Every ``/crisis`` subcommand: answer bad input in the ack, do the work after it."""
    deps = deps_of(context)
    user_id = command["user_id"]
    channel_id = command.get("channel_id", "")
    try:
        parsed = parse(command.get("text", ""))
    except UsageError as error:
        ack(text=str(error))
        return
    if parsed.name == Subcommand.HELP:
        ack(text=messages.help_text(deps.settings.ack_emoji))
        return
    reply = safe_reply(respond)
    if parsed.name == Subcommand.NEW and not parsed.customer:
        ack()
        # views.open right away: the trigger expires three seconds after the command.
        with replying_on_failure(reply):
            deps.slack.open_view(
                trigger_id=command["trigger_id"],
                view=declare_modal(user_id=user_id, origin_channel_id=channel_id),
            )
        return
    if parsed.name == Subcommand.NEW:
        try:
            request = declare_request(
                customer=parsed.customer,
                experienced=parsed.text,
                severity=parsed.severity,
                declared_by=user_id,
                owner_id=user_id,
                origin_channel_id=channel_id,
            )
            # The customer's account, if it has one; a question first, if there is one.
            declaring, question = ask_before_declaring(deps, request)
        except CrisisError as error:
            ack(text=str(error))
            return
        if question is not None:
            ack(text=question[0], blocks=question[1])
            return
        ack(text=messages.declaring(declaring.customer))
        deps.later(lambda: _declare(deps, declaring, user_id, reply))
        return
    if parsed.name in (Subcommand.ACCOUNT, Subcommand.ACCOUNTS):
        run_account_command(ack=ack, parsed=parsed, command=command, respond=respond, deps=deps)
        return
    if parsed.name == Subcommand.LIST:
        ack()
        deps.later(lambda: _list(deps, user_id, respond, mine=parsed.mine))
        return
    if parsed.name == Subcommand.REPORT:
        ack()
        deps.later(lambda: _report(deps, respond, days=parsed.days))
        return
    if run_outage_command(ack=ack, parsed=parsed, command=command, respond=respond, deps=deps):
        return
    with deps.session_factory() as session:
        crisis = crises.by_channel(session, channel_id)
        if crisis is None:
            ack(text=messages.not_in_crisis_channel(parsed.name))
            return
        crisis_id = crisis.id
    ack()
    deps.later(lambda: _run_channel_command(deps, parsed, user_id, crisis_id, respond))


def _declare(deps: Deps, request: DeclareRequest, user_id: str, reply: Reply) -> None:
    with replying_on_failure(reply):
        declare_and_tell(deps, request, reply)


def _list(deps: Deps, user_id: str, respond: Respond, *, mine: bool = False) -> None:
    with replying_on_failure(safe_reply(respond)):
        with deps.session_factory() as session:
            rows = crises.list_open(session, involving=user_id if mine else None)
            blocks = list_blocks(rows, now=deps.now(), mine=mine)
        if mine:
            header = (
                messages.list_mine_header(len(rows)) if rows else messages.no_open_crises_of_yours()
            )
        else:
            header = messages.list_header(len(rows)) if rows else messages.no_open_crises()
        respond(text=header, blocks=blocks)


def _report(deps: Deps, respond: Respond, *, days: int) -> None:
    """The report for the last ``days`` days, to the asker only (a response is ephemeral)."""
    with replying_on_failure(safe_reply(respond)):
        end = deps.now()
        with deps.session_factory() as session:
            scope = deps.scope(session)
            figures = report.figures(
                session, team_id=scope.team_id, start=end - timedelta(days=days), end=end
            )
        respond(
            text=messages.report_summary(
                days, figures.declared, figures.closed, figures.kept_on_time_pct
            ),
            blocks=report_blocks(figures, days=days),
            response_type="ephemeral",
        )


# What each channel command does, for the refusal that names who may do it.
MANAGING: dict[Subcommand, str] = {
    Subcommand.UPDATE: "post updates for",
    Subcommand.TELL: "tell the customer of",
    Subcommand.CLOSE: "close",
    Subcommand.REOPEN: "reopen",
    Subcommand.OWNER: "hand over",
    Subcommand.ADD: "add responders to",
    Subcommand.REMOVE: "remove responders from",
    Subcommand.EVERY: "change the update cadence of",
    Subcommand.SEVERITY: "change the severity of",
    Subcommand.KIND: "change the kind of",
}


def _run_channel_command(
    deps: Deps, parsed: Command, user_id: str, crisis_id: int, respond: Respond
) -> None:
    """The slow part of a crisis-channel command, after the ack."""
    reply = safe_reply(respond)
    with replying_on_failure(reply, crisis_id=crisis_id), deps.session_factory() as session:
        crisis = crises.by_id(session, crisis_id)
        if crisis is None:
            raise CrisisError(messages.crisis_gone())
        if parsed.name in MANAGING:
            require_manager(deps, crisis, user_id, action=MANAGING[parsed.name])
        if parsed.name == Subcommand.STATUS:
            respond(
                text=f"Crisis for {safe(crisis.customer, 100)}",
                blocks=status_blocks(
                    crisis,
                    now=deps.now(),
                    ack_emoji=deps.settings.ack_emoji,
                    promises=ledger.promises_of(session, crisis_id=crisis.id),
                    tally=ledger.tally(session, crisis_id=crisis.id),
                ),
            )
            return
        scope = deps.scope(session)
        match parsed.name:
            case Subcommand.ACK:
                ack_row, created = lifecycle.acknowledge(
                    scope, crisis=crisis, user_id=user_id, via=AckVia.COMMAND
                )
                seconds = int((ack_row.at - crisis.declared_at).total_seconds())
                reply(
                    messages.acknowledged(seconds)
                    if created
                    else messages.already_acknowledged(ack_row.at)
                )
            case Subcommand.UPDATE:
                update = lifecycle.post_update(
                    scope, crisis=crisis, author_id=user_id, content=UpdateContent(text=parsed.text)
                )
                recorded = messages.update_recorded(
                    update.next_update_due_at, update.promised_in_zone
                )
                account = crisis.account
                if account is not None and account.customer_channel:
                    hint = messages.tell_the_customer_too(account.name, account.customer_channel)
                    recorded = f"{recorded}\n{hint}"
                reply(recorded)
            case Subcommand.TELL:
                preview = telling.prepare(scope, crisis=crisis, author_id=user_id, text=parsed.text)
                respond(text=preview.text, blocks=preview_blocks(preview))
            case Subcommand.CLOSE:
                follow_up_at = lifecycle.close(
                    scope, crisis=crisis, actor_id=user_id, resolution=parsed.text
                )
                reply(messages.closed_reply(follow_up_at))
            case Subcommand.REOPEN:
                lifecycle.reopen(scope, crisis=crisis, actor_id=user_id, reason=parsed.text)
            case Subcommand.OWNER:
                if parsed.user_id == deps.slack.bot_user_id:
                    raise CrisisError(messages.owner_is_bot())
                lifecycle.hand_over(
                    scope, crisis=crisis, actor_id=user_id, new_owner_id=parsed.user_id
                )
            case Subcommand.EVERY:
                assert parsed.every is not None
                due = lifecycle.set_cadence(
                    scope, crisis=crisis, actor_id=user_id, every=parsed.every
                )
                reply(messages.cadence_reply(crisis.customer, parsed.every, due))
            case Subcommand.ADD | Subcommand.REMOVE:
                people = list(parsed.user_ids)
                if deps.slack.bot_user_id in people:
                    raise CrisisError(messages.responder_is_bot(parsed.name))
                if parsed.name == Subcommand.REMOVE:
                    lifecycle.remove_responders(
                        scope, crisis=crisis, actor_id=user_id, user_ids=people
                    )
                    return
                added = lifecycle.add_responders(
                    scope, crisis=crisis, actor_id=user_id, user_ids=people
                )
                skipped = [u for u in people if u not in added]
                if skipped:
                    reply(messages.responders_skipped(skipped, crisis.owner_id))
            case Subcommand.SEVERITY:
                lifecycle.set_severity(
                    scope, crisis=crisis, actor_id=user_id, severity=parsed.severity
                )
            case Subcommand.KIND:
                assert parsed.kind is not None
                lifecycle.set_kind(scope, crisis=crisis, actor_id=user_id, kind=parsed.kind)
