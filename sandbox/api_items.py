"""pins.* and reactions.* methods."""

from __future__ import annotations

import re

from sandbox.api_chat import permalink
from sandbox.apicommon import Caller, Method, SlackApiError, arg_str, get_channel, require_member
from sandbox.workspace import JSON, Channel, Message, Pin, Workspace

_EMOJI = re.compile(r"^[a-z0-9_+\-']+(::skin-tone-[2-6])?$")
MAX_DISTINCT_REACTIONS = 23


def _message(ws: Workspace, ch: Channel, ts: str) -> Message:
    if not ts:
        raise SlackApiError("no_item_specified")
    msg = ws.find_message(ch.id, ts)
    if msg is None or msg.subtype == "tombstone":
        raise SlackApiError("message_not_found")
    return msg


def _pin_item(ws: Workspace, pin: Pin) -> JSON:
    msg = ws.messages[pin.channel][pin.ts]
    message = ws.message_to_api(msg)
    message["permalink"] = permalink(ws, pin.channel, msg.ts, msg.thread_ts)
    return {
        "type": "message",
        "created": pin.created,
        "created_by": pin.created_by,
        "channel": pin.channel,
        "message": message,
    }


def pins_add(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """pins.add: the bot must be in the channel; a message is pinned once."""
    with ws.mutate() as emit:
        ch = get_channel(ws, caller, args)
        require_member(ch, caller)
        msg = _message(ws, ch, arg_str(args, "timestamp"))
        pins = ws.pins.setdefault(ch.id, {})
        if msg.ts in pins:
            raise SlackApiError("already_pinned")
        pin = pins[msg.ts] = Pin(ch.id, msg.ts, caller.user_id, int(ws.now()))
        emit(
            {
                "type": "pin_added",
                "user": caller.user_id,
                "channel_id": ch.id,
                "item": _pin_item(ws, pin),
            }
        )
        return {}


def pins_remove(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """pins.remove: `no_pin` when the message is not pinned."""
    with ws.mutate() as emit:
        ch = get_channel(ws, caller, args)
        require_member(ch, caller)
        msg = _message(ws, ch, arg_str(args, "timestamp"))
        pins = ws.pins.setdefault(ch.id, {})
        if msg.ts not in pins:
            raise SlackApiError("no_pin")
        item = _pin_item(ws, pins.pop(msg.ts))
        emit({"type": "pin_removed", "user": caller.user_id, "channel_id": ch.id, "item": item})
        return {}


def pins_list(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """pins.list: newest pin first."""
    with ws.lock:
        ch = get_channel(ws, caller, args)
        # Dict order is pin order, so reversing gives newest first even within one second.
        pins = reversed(list(ws.pins.get(ch.id, {}).values()))
        return {"items": [_pin_item(ws, p) for p in pins]}


def _reaction_target(ws: Workspace, caller: Caller, args: JSON) -> tuple[Message, str]:
    if not arg_str(args, "channel") or not arg_str(args, "timestamp"):
        raise SlackApiError("no_item_specified")
    ch = get_channel(ws, caller, args)
    msg = _message(ws, ch, arg_str(args, "timestamp"))
    name = arg_str(args, "name").strip(":")
    if not _EMOJI.match(name):
        raise SlackApiError("invalid_name")
    return msg, name


def react(ws: Workspace, user_id: str, msg: Message, name: str, *, add: bool) -> None:
    """Add or remove one user's reaction and announce it (shared with the test helpers)."""
    with ws.mutate() as emit:
        users = msg.reactions.get(name, [])
        if add:
            if user_id in users:
                raise SlackApiError("already_reacted")
            if name not in msg.reactions and len(msg.reactions) >= MAX_DISTINCT_REACTIONS:
                raise SlackApiError("too_many_emoji")
            msg.reactions[name] = [*users, user_id]
        else:
            if user_id not in users:
                raise SlackApiError("no_reaction")
            users = [u for u in users if u != user_id]
            if users:
                msg.reactions[name] = users
            else:
                del msg.reactions[name]
        emit(
            {
                "type": "reaction_added" if add else "reaction_removed",
                "user": user_id,
                "reaction": name,
                "item_user": msg.user,
                "item": {"type": "message", "channel": msg.channel, "ts": msg.ts},
                "event_ts": ws.next_ts(),
            }
        )


def reactions_add(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """reactions.add."""
    with ws.mutate():
        msg, name = _reaction_target(ws, caller, args)
        react(ws, caller.user_id, msg, name, add=True)
        return {}


def reactions_remove(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """reactions.remove: `no_reaction` when the caller had not reacted with that emoji."""
    with ws.mutate():
        msg, name = _reaction_target(ws, caller, args)
        react(ws, caller.user_id, msg, name, add=False)
        return {}


def reactions_get(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """reactions.get: the message with its reactions."""
    with ws.lock:
        if not arg_str(args, "channel") or not arg_str(args, "timestamp"):
            raise SlackApiError("no_item_specified")
        ch = get_channel(ws, caller, args)
        msg = _message(ws, ch, arg_str(args, "timestamp"))
        message = ws.message_to_api(msg)
        message["permalink"] = permalink(ws, ch.id, msg.ts, msg.thread_ts)
        return {"type": "message", "channel": ch.id, "message": message}


METHODS: dict[str, Method] = {
    "pins.add": pins_add,
    "pins.remove": pins_remove,
    "pins.list": pins_list,
    "reactions.add": reactions_add,
    "reactions.remove": reactions_remove,
    "reactions.get": reactions_get,
}
