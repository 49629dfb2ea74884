"""What every listener shares: getting dependencies and turning failures into clear replies."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta

from bot import messages
from bot.blocks.prompts import did_you_mean_prompt, second_crisis_prompt
from bot.db.models import Account, Crisis
from bot.deps import Deps
from bot.services import crises, leases, lifecycle, permissions
from bot.services.errors import CrisisError
from bot.services.port import Blocks, SlackFailure
from bot.services.requests import DeclareRequest

log = logging.getLogger(__name__)

Reply = Callable[[str], object]
# A question to ask before declaring: its text and blocks.
Question = tuple[str, Blocks]


@contextmanager
def replying_on_failure(reply: Reply, *, crisis_id: int | None = None) -> Iterator[None]:
    """Run a service call; any failure reaches the user as a clear message, never a trace."""
    try:
        yield
    except CrisisError as error:
        reply(str(error))
    except SlackFailure as failure:
        log.warning("crisis %s: %s", crisis_id, failure)
        if failure.transient:
            waited = timedelta(seconds=failure.waited)
            reply(messages.slack_unavailable(failure.error, waited, crisis_id=crisis_id))
        else:
            reply(messages.slack_failed(failure.error, crisis_id=crisis_id))
    except Exception:
        log.exception("crisis %s: unexpected failure", crisis_id)
        reply(messages.unexpected_failure())


def safe_reply(send: Callable[..., object]) -> Reply:
    """A reply function that never raises (a reply failing must not hide the first error)."""

    def reply(text: str) -> None:
        try:
            send(text=text)
        except Exception:
            log.exception("could not deliver a reply to the user")

    return reply


def declare_and_tell(deps: Deps, request: DeclareRequest, reply: Reply) -> None:
    """Declare (after the ack), then tell the declarer where the crisis lives."""
    with deps.session_factory() as session:
        scope = deps.scope(session)  # one moment for the whole declaration
        stored: tuple[Crisis, bool] | None = None
        with replying_on_failure(reply):
            permissions.require_team_crew(
                slack=deps.slack, owner_id=request.owner_id, responders=request.responders
            )
            stored = crises.store_declaration(scope, request=request)
        if stored is None:
            return  # refused: the user has been told why
        crisis, is_new = stored
        if not is_new:
            return  # a redelivered form: the first delivery does the rest
        owns_it = request.declarer_owns_it
        # From here on, whatever fails names the crisis, in the log and to the user; until the
        # declarer has the reply, the crisis's lease is renewed (no sweep DMs them meanwhile).
        with (
            replying_on_failure(reply, crisis_id=crisis.id),
            leases.working(session, scope.claims, crisis.id),
        ):
            crises.finish_declaration(scope, crisis=crisis, dm_owner=not owns_it)
            assert crisis.channel_id and crisis.next_update_due_at
            reply(
                messages.declared(
                    crisis.customer,
                    crisis.channel_id,
                    crisis.next_update_due_at,
                    lead=deps.settings.reminder_lead if owns_it else None,
                    owner_id=None if owns_it else crisis.owner_id,
                    zone=crisis.promised_in_zone,
                )
            )
            if not crisis.owner_told:
                lifecycle.owner_told_by_reply(deps.scope(session), crisis=crisis)


def ask_before_declaring(
    deps: Deps, request: DeclareRequest
) -> tuple[DeclareRequest, Question | None]:
    """The declaration for its customer's account (a typed name: by name or alias), and the
    question to ask first, if any, its declaration held: did you mean that account (a name
    close to an account's), or the customer's open crisis."""
    with deps.session_factory() as session:
        matched = crises.match_account(session, request)
        if isinstance(matched, crises.NearMiss):
            pending = crises.hold_declaration(deps.scope(session), request=request, existing=None)
            text = messages.did_you_mean(request.customer, matched.account_name)
            blocks = did_you_mean_prompt(
                text,
                typed=request.customer,
                account_id=matched.account_id,
                account_name=matched.account_name,
                pending_id=pending.id,
            )
            return request, (text, blocks)
    return matched, hold_if_already_open(deps, matched)


def hold_if_already_open(
    deps: Deps, request: DeclareRequest, *, pending_id: int | None = None
) -> Question | None:
    """When the customer already has an open crisis, hold the declaration (``pending_id``:
    held already) and return the question to ask: go there, or declare anyway. None: go
    ahead."""
    with deps.session_factory() as session:
        existing = crises.open_for_customer(
            session, request.customer, account_id=request.account_id
        )
        if existing is None or (request.source_key and existing.source_key == request.source_key):
            return None  # nothing open, or this very form delivered again
        pending = crises.hold_declaration(
            deps.scope(session), request=request, existing=existing, pending_id=pending_id
        )
        text = messages.already_open(existing.customer, existing.channel_id, existing.owner_id)
        blocks = second_crisis_prompt(
            text,
            channel_id=existing.channel_id,
            channel_name=existing.channel_name,
            pending_id=pending.id,
        )
        return text, blocks


def admins(deps: Deps) -> set[str]:
    """``CRISISBOT_ADMINS`` as user ids, user groups expanded (cached by the gateway)."""
    configured = deps.settings.admins
    found = set(configured.users)
    for group in configured.groups:
        found |= deps.slack.group_members(group=group)
    return found


def require_manager(deps: Deps, crisis: Crisis, user_id: str, *, action: str) -> None:
    """Refuse politely unless the user is the owner, a responder or an admin."""
    configured = deps.settings.admins
    permissions.require_manager(
        crisis,
        user_id,
        admins=admins(deps),
        action=action,
        named_admins=[*configured.users, *configured.groups],
    )


def require_account_editor(deps: Deps, account: Account | None, user_id: str) -> None:
    """Refuse politely unless the user is the account's CSM or an admin (adding: an admin)."""
    configured = deps.settings.admins
    permissions.require_account_editor(
        account,
        user_id,
        admins=admins(deps),
        named_admins=[*configured.users, *configured.groups],
    )


def require_teammates(
    deps: Deps,
    user_ids: Sequence[str],
    *,
    role: permissions.Role,
    field: str | None = None,
) -> None:
    """Refuse, naming them, anyone to own (``role="own"``) or respond to (``"respond"``) a
    crisis who is from another organisation or a guest; ``field`` for a form's error."""
    permissions.require_teammates(slack=deps.slack, user_ids=user_ids, role=role, field=field)
