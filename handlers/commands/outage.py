"""``/crisis outage`` anywhere; ``affected``, ``unaffected``, ``split``, ``broadcast``,
``status`` and ``close`` in an outage's channel."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, Respond

from bot import messages
from bot.blocks.outage import broadcast_preview_blocks, close_form, outage_form, status_blocks
from bot.db.models import Outage
from bot.deps import Deps
from bot.enums import Subcommand
from bot.parsing import OUTAGE_COMMANDS, Command
from bot.services import outages
from handlers.common import replying_on_failure, safe_reply

# Subcommands that mean the outage when run in its channel.
IN_OUTAGE_CHANNEL = (*OUTAGE_COMMANDS, Subcommand.STATUS, Subcommand.CLOSE)


def run_outage_command(
    *, ack: Ack, parsed: Command, command: dict[str, Any], respond: Respond, deps: Deps
) -> bool:
    """Handle the command if it is the outage's; False when it is not (a crisis channel's)."""
    user_id = command["user_id"]
    channel_id = command.get("channel_id", "")
    reply = safe_reply(respond)
    if parsed.name == Subcommand.OUTAGE:
        if not parsed.text:
            ack()
            # views.open right away: the trigger expires three seconds after the command.
            with replying_on_failure(reply):
                deps.slack.open_view(
                    trigger_id=command["trigger_id"],
                    view=outage_form(user_id=user_id, origin_channel_id=channel_id),
                )
            return True
        ack(text=messages.outage_declaring(parsed.text))
        deps.later(lambda: _declare(deps, parsed, user_id, respond))
        return True
    if parsed.name not in IN_OUTAGE_CHANNEL:
        return False
    with deps.session_factory() as session:
        outage = outages.by_channel(session, channel_id)
        outage_id = outage.id if outage is not None else None
        if outage is not None and parsed.name == Subcommand.CLOSE:
            ack()
            offered = [
                (link.account_id, link.account.name) for link in outages.open_accounts(outage)
            ]
            with replying_on_failure(reply):
                deps.slack.open_view(
                    trigger_id=command["trigger_id"],
                    view=close_form(outage_id=outage.id, resolution=parsed.text, accounts=offered),
                )
            return True
    if outage_id is None:
        if parsed.name in OUTAGE_COMMANDS:
            ack(text=messages.not_in_outage_channel(parsed.name))
            return True
        return False  # status or close in a crisis channel
    ack()
    deps.later(lambda: _in_channel(deps, parsed, user_id, outage_id, respond))
    return True


def _declare(deps: Deps, parsed: Command, user_id: str, respond: Respond) -> None:
    reply = safe_reply(respond)
    with replying_on_failure(reply), deps.session_factory() as session:
        outage = outages.declare(
            deps.scope(session), title=parsed.text, severity=parsed.severity, declared_by=user_id
        )
        assert outage.channel_id is not None
        reply(messages.outage_declared(outage.channel_id))


def _in_channel(
    deps: Deps, parsed: Command, user_id: str, outage_id: int, respond: Respond
) -> None:
    """The slow part of an outage-channel command, after the ack."""
    reply = safe_reply(respond)
    with replying_on_failure(reply), deps.session_factory() as session:
        scope = deps.scope(session)
        outage = session.get(Outage, outage_id)
        assert outage is not None
        match parsed.name:
            case Subcommand.AFFECTED:
                found, unknown = outages.find_accounts(session, list(parsed.names))
                if unknown:
                    # Nothing added: the person fixes the names and runs it once more.
                    reply(messages.outage_unknown_accounts(unknown))
                    return
                added = outages.add_affected(scope, outage=outage, found=found, actor_id=user_id)
                reply(messages.outage_added(added.added, added.linked, added.already))
            case Subcommand.UNAFFECTED:
                name = outages.remove_affected(
                    scope, outage=outage, name=parsed.text, actor_id=user_id
                )
                reply(messages.outage_removed(name))
            case Subcommand.SPLIT:
                crisis = outages.split(scope, outage=outage, name=parsed.text, actor_id=user_id)
                assert crisis.channel_id is not None
                reply(messages.outage_split(crisis.customer, crisis.channel_id))
            case Subcommand.BROADCAST:
                preview = outages.prepare_broadcast(
                    scope, outage=outage, author_id=user_id, text=parsed.text
                )
                respond(
                    text=messages.broadcast_preview_header(len(preview.destinations)),
                    blocks=broadcast_preview_blocks(preview),
                )
            case Subcommand.STATUS:
                rows = outages.status_rows(scope, outage=outage)
                respond(
                    text=messages.outage_status_header(outage.title, len(rows)),
                    blocks=status_blocks(outage, rows, now=scope.now),
                )
