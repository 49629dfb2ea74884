"""The outage forms: declare an outage, broadcast to its customers, close it."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext

from bot import messages
from bot.blocks.outage import broadcast_preview_blocks
from bot.db.models import Outage
from bot.deps import Deps, deps_of
from bot.domain import DEFAULT_SEVERITY, SEVERITIES
from bot.enums import Severity
from bot.services import outages
from bot.services.errors import CrisisError
from bot.services.port import SlackFailure
from bot.services.scope import Scope
from handlers.common import replying_on_failure, safe_reply

log = logging.getLogger(__name__)


def _number(value: object) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() else None


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _element(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    fields = view.get("state", {}).get("values", {}).get(block_id, {})
    element: dict[str, Any] = next(iter(fields.values()), {})
    return element


def _text(view: dict[str, Any], block_id: str) -> str:
    return str(_element(view, block_id).get("value") or "").strip()


def _picked(view: dict[str, Any], block_id: str) -> list[str]:
    element = _element(view, block_id)
    options = element.get("selected_options") or []
    return [str(option.get("value") or "") for option in options if isinstance(option, dict)]


def _tell(
    deps: Deps, *, user_id: str, channel_id: str | None, text: str, blocks: Any = None
) -> None:
    """Tell one person privately: in the outage channel, or by DM."""
    try:
        if channel_id:
            deps.slack.ephemeral(channel=channel_id, user=user_id, text=text, blocks=blocks)
            return
    except SlackFailure:
        pass
    try:
        deps.slack.dm(user=user_id, text=text, blocks=blocks)
    except SlackFailure as failure:
        log.warning("could not tell %s: %s", user_id, failure)


def handle_outage_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    """The declare-outage form: a title is needed; the rest is optional."""
    deps = deps_of(context)
    user_id = body["user"]["id"]
    title = _text(view, "title")
    if not title:
        ack(response_action="errors", errors={"title": messages.outage_title_missing()})
        return
    severity = str((_element(view, "severity").get("selected_option") or {}).get("value") or "")
    if severity not in SEVERITIES:
        severity = DEFAULT_SEVERITY
    ids = tuple(n for n in (_number(v) for v in _picked(view, "accounts")) if n is not None)
    ack()
    origin = _metadata(view).get("origin")

    def work() -> None:
        reply = safe_reply(lambda text: _tell(deps, user_id=user_id, channel_id=origin, text=text))
        with replying_on_failure(reply), deps.session_factory() as session:
            outage = outages.declare(
                deps.scope(session),
                title=title,
                severity=Severity(severity),
                affected=_text(view, "affected"),
                declared_by=user_id,
                account_ids=ids,
                source_key=str(view.get("id") or "") or None,
            )
            assert outage.channel_id is not None
            reply(messages.outage_declared(outage.channel_id))

    deps.later(work)


def _with_outage(
    deps: Deps,
    view: dict[str, Any],
    *,
    user_id: str,
    gone: str,
    do: Callable[[Scope, Outage], None],
) -> None:
    """After the ack: ``do`` with the form's outage; a failure, or the outage gone (``gone``),
    is told privately to who submitted it."""
    outage_id = _number(_metadata(view).get("outage"))

    def work() -> None:
        with deps.session_factory() as session:
            outage = session.get(Outage, outage_id) if outage_id is not None else None
            channel = outage.channel_id if outage is not None else None
            reply = safe_reply(
                lambda text: _tell(deps, user_id=user_id, channel_id=channel, text=text)
            )
            with replying_on_failure(reply):
                if outage is None:
                    raise CrisisError(gone)
                do(deps.scope(session), outage)

    deps.later(work)


def handle_broadcast_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    """The broadcast form: the preview, privately in the outage channel."""
    deps = deps_of(context)
    user_id = body["user"]["id"]
    text = _text(view, "text")
    if not text:
        ack(response_action="errors", errors={"text": messages.broadcast_text_missing()})
        return
    ack()

    def preview(scope: Scope, outage: Outage) -> None:
        prepared = outages.prepare_broadcast(scope, outage=outage, author_id=user_id, text=text)
        _tell(
            deps,
            user_id=user_id,
            channel_id=outage.channel_id,
            text=messages.broadcast_preview_header(len(prepared.destinations)),
            blocks=broadcast_preview_blocks(prepared),
        )

    _with_outage(deps, view, user_id=user_id, gone=messages.broadcast_gone(), do=preview)


def handle_close_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    """Closing the outage: every linked crisis closed but those chosen to stay open."""
    deps = deps_of(context)
    user_id = body["user"]["id"]
    resolution = _text(view, "resolution")
    if not resolution:
        ack(response_action="errors", errors={"resolution": messages.outage_resolution_missing()})
        return
    ack()
    leave = frozenset(n for n in (_number(v) for v in _picked(view, "leave_open")) if n is not None)

    def close(scope: Scope, outage: Outage) -> None:
        outages.close(
            scope, outage=outage, actor_id=user_id, resolution=resolution, leave_open=leave
        )

    _with_outage(deps, view, user_id=user_id, gone=messages.outage_gone(), do=close)
