"""What every listener shares: getting dependencies and turning failures into clear replies."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from bot import messages
from bot.db.models import Crisis
from bot.deps import Deps
from bot.services import crises, lifecycle, permissions
from bot.services.errors import CrisisError
from bot.services.port import SlackFailure
from bot.services.requests import DeclareRequest

log = logging.getLogger(__name__)

Reply = Callable[[str], object]


@contextmanager
def replying_on_failure(reply: Reply, *, crisis_id: int | None = None) -> Iterator[None]:
    """Run a service call; any failure reaches the user as a clear message, never a trace."""
    try:
        yield
    except CrisisError as error:
        reply(str(error))
    except SlackFailure as failure:
        log.warning("crisis %s: %s", crisis_id, failure)
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
    now = deps.now()
    with deps.session_factory() as session:
        stored: tuple[Crisis, bool] | None = None
        with replying_on_failure(reply):
            stored = crises.store_declaration(
                session=session, settings=deps.settings, request=request, now=now
            )
        if stored is None:
            return  # refused: the user has been told why
        crisis, is_new = stored
        if not is_new:
            return  # a redelivered form: the first delivery does the rest
        owns_it = request.declarer_owns_it
        # From here on, whatever fails names the crisis, in the log and to the user.
        with replying_on_failure(reply, crisis_id=crisis.id):
            crises.finish_declaration(
                session=session,
                slack=deps.slack,
                settings=deps.settings,
                crisis=crisis,
                now=now,
                dm_owner=not owns_it,
            )
            assert crisis.channel_id and crisis.next_update_due_at
            reply(
                messages.declared(
                    crisis.customer,
                    crisis.channel_id,
                    crisis.next_update_due_at,
                    lead=deps.settings.reminder_lead if owns_it else None,
                    owner_id=None if owns_it else crisis.owner_id,
                )
            )
            if not crisis.owner_told:
                lifecycle.owner_told_by_reply(
                    session=session, settings=deps.settings, crisis=crisis, now=deps.now()
                )


def admins(deps: Deps) -> set[str]:
    """``CRISISBOT_ADMINS`` as user ids, user groups expanded (cached by the gateway)."""
    users, groups = deps.settings.admin_ids()
    found = set(users)
    for group in groups:
        found |= deps.slack.group_members(group=group)
    return found


def require_manager(deps: Deps, crisis: Crisis, user_id: str, *, action: str) -> None:
    """Refuse politely unless the user is the owner, a responder or an admin."""
    users, groups = deps.settings.admin_ids()
    permissions.require_manager(
        crisis, user_id, admins=admins(deps), action=action, named_admins=users + groups
    )


def require_internal(deps: Deps, user_id: str) -> None:
    """Refuse users from other organisations (Slack Connect): they never see other crises."""
    if deps.slack.is_external(user=user_id):
        raise CrisisError(messages.external_user())
