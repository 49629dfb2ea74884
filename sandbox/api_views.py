"""views.* methods: modals (a stack of up to 3 per user) and Home tabs."""

from __future__ import annotations

from sandbox.apicommon import Caller, Method, SlackApiError, arg_json, arg_str, error_with_detail
from sandbox.blockkit import BlockError, validate_view
from sandbox.workspace import JSON, View, Workspace

TRIGGER_TTL = 3.0
MAX_STACK = 3


def _use_trigger(ws: Workspace, args: JSON) -> str | None:
    """Consume a trigger_id and return its user; strict mode checks origin, age and reuse."""
    trigger = arg_str(args, "trigger_id")
    if not trigger:
        raise error_with_detail("invalid_arguments", "missing required field: trigger_id")
    issued = ws.triggers.get(trigger)
    if ws.strict_triggers:
        if issued is None:
            raise SlackApiError("invalid_trigger_id")
        if trigger in ws.used_triggers:
            raise SlackApiError("exchanged_trigger_id")
        if ws.now() - issued[1] > TRIGGER_TTL:
            raise SlackApiError("expired_trigger_id")
    ws.used_triggers.add(trigger)
    return issued[0] if issued else None


def _parse_view(args: JSON, types: tuple[str, ...]) -> JSON:
    view = arg_json(args, "view")
    if view is None:
        raise error_with_detail("invalid_arguments", "missing required field: view")
    try:
        validate_view(view, types=types)
    except BlockError as exc:
        raise error_with_detail("invalid_arguments", str(exc)) from None
    return dict(view)


def _new_hash(ws: Workspace) -> str:
    return f"{int(ws.now())}.{ws.new_id('').lower()}"


def _check_external_id(ws: Workspace, view: JSON, own_id: str | None = None) -> None:
    external_id = view.get("external_id")
    if external_id and any(
        v.external_id == external_id and v.id != own_id for v in ws.views.values()
    ):
        raise SlackApiError("duplicate_external_id")


def _store(ws: Workspace, caller: Caller, user: str | None, view: JSON, stack: list[str]) -> View:
    _check_external_id(ws, view)
    vid = ws.new_id("V")
    stored = View(
        id=vid,
        type=view["type"],
        user=user,
        view=view,
        hash=_new_hash(ws),
        team_id=ws.team.id,
        bot_id=caller.bot_id,
        root_view_id=stack[0] if stack else vid,
        previous_view_id=stack[-1] if stack else None,
        external_id=view.get("external_id", ""),
    )
    ws.views[vid] = stored
    stack.append(vid)
    return stored


def views_open(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """views.open: a new modal stack for the trigger's user."""
    with ws.mutate() as emit:
        view = _parse_view(args, ("modal",))
        user = _use_trigger(ws, args)
        stack: list[str] = []
        stored = _store(ws, caller, user, view, stack)
        ws.view_stacks[user] = stack
        emit({"type": "view_opened", "user": user, "view": stored.to_api()})
        return {"view": stored.to_api()}


def views_push(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """views.push: at most 3 modals per stack (`push_limit_reached`)."""
    with ws.mutate() as emit:
        view = _parse_view(args, ("modal",))
        user = _use_trigger(ws, args)
        stack = ws.view_stacks.setdefault(user, [])
        if len(stack) >= MAX_STACK:
            raise SlackApiError("push_limit_reached")
        stored = _store(ws, caller, user, view, stack)
        emit({"type": "view_pushed", "user": user, "view": stored.to_api()})
        return {"view": stored.to_api()}


def views_update(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """views.update by view_id or external_id; a stale `hash` gives `hash_conflict`."""
    with ws.mutate() as emit:
        view_id = arg_str(args, "view_id")
        external_id = arg_str(args, "external_id")
        if not view_id and not external_id:
            raise error_with_detail("invalid_arguments", "view_id or external_id is required")
        if view_id:
            stored = ws.views.get(view_id)
        else:
            stored = next((v for v in ws.views.values() if v.external_id == external_id), None)
        if stored is None:
            raise SlackApiError("not_found")
        view = _parse_view(args, (stored.type,))
        view_hash = arg_str(args, "hash")
        if view_hash and view_hash != stored.hash:
            raise SlackApiError("hash_conflict")
        _check_external_id(ws, view, stored.id)
        stored.view = view
        stored.external_id = view.get("external_id", stored.external_id)
        stored.hash = _new_hash(ws)
        emit({"type": "view_updated", "user": stored.user, "view": stored.to_api()})
        return {"view": stored.to_api()}


def views_publish(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """views.publish: the user's Home tab (one per user, updated in place)."""
    with ws.mutate() as emit:
        user_id = arg_str(args, "user_id")
        if not user_id:
            raise error_with_detail("invalid_arguments", "missing required field: user_id")
        if user_id not in ws.users:
            raise SlackApiError("user_not_found")
        view = _parse_view(args, ("home",))
        existing = ws.views.get(ws.home_views.get(user_id, ""))
        view_hash = arg_str(args, "hash")
        if existing and view_hash and view_hash != existing.hash:
            raise SlackApiError("hash_conflict")
        if existing:
            existing.view, existing.hash = view, _new_hash(ws)
            stored = existing
        else:
            stored = _store(ws, caller, user_id, view, [])
            ws.home_views[user_id] = stored.id
        emit({"type": "view_published", "user": user_id, "view": stored.to_api()})
        return {"view": stored.to_api()}


METHODS: dict[str, Method] = {
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "views.publish": views_publish,
}
