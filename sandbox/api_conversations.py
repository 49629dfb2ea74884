"""conversations.* methods."""

from __future__ import annotations

import re

from sandbox.apicommon import (
    Caller,
    Method,
    SlackApiError,
    arg_bool,
    arg_list,
    arg_str,
    can_see,
    get_channel,
    paginate,
    require_member,
    require_not_archived,
)
from sandbox.workspace import JSON, Channel, Message, TextSetting, Workspace

_NAME_CHARS = re.compile(r"^[a-z0-9_-]+$")
MAX_NAME = 80
MAX_TOPIC = 250


def validate_channel_name(name: str) -> None:
    """Apply Slack's channel-name rules, raising the matching `invalid_name_*` error."""
    if not name:
        raise SlackApiError("invalid_name_required")
    if len(name) > MAX_NAME:
        raise SlackApiError("invalid_name_maxlength")
    if not _NAME_CHARS.match(name):
        raise SlackApiError("invalid_name_specials")
    if not name.strip("-_"):
        raise SlackApiError("invalid_name_punctuation")


def ts_key(ts: str, error: str) -> int:
    """Turn a Slack ts into integer microseconds, so comparisons are exact."""
    sec, _, frac = ts.partition(".")
    if not sec.isdigit() or (frac and not frac.isdigit()):
        raise SlackApiError(error)
    return int(sec) * 1_000_000 + int((frac or "0").ljust(6, "0")[:6])


def system_message(ws: Workspace, ch: Channel, user: str, subtype: str, text: str) -> Message:
    """Store a system message (channel_join, channel_topic, ...) as Slack shows in history."""
    return ws.add_message(
        Message(ts=ws.next_ts(), channel=ch.id, user=user, text=text, subtype=subtype)
    )


def _join(ws: Workspace, ch: Channel, user_id: str, inviter: str | None = None) -> None:
    with ws.mutate() as emit:
        ch.members.add(user_id)
        if ws.users[user_id].is_stranger:
            ch.is_ext_shared = True
        system_message(ws, ch, user_id, "channel_join", f"<@{user_id}> has joined the channel")
        event: JSON = {"type": "member_joined_channel", "user": user_id, "channel": ch.id}
        if inviter:
            event["inviter"] = inviter
        emit(event)


def _not_for_dms(ch: Channel) -> None:
    if ch.is_im or ch.is_mpim:
        raise SlackApiError("method_not_supported_for_channel_type")


def create(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """conversations.create: new channel; the creator becomes its first member."""
    name = arg_str(args, "name")
    validate_channel_name(name)
    with ws.mutate():
        # Archived channels keep their names, as in Slack.
        if any(c.name == name for c in ws.channels.values() if not c.is_im):
            raise SlackApiError("name_taken")
        ch = Channel(
            id=ws.new_id("C"),
            name=name,
            created=int(ws.now()),
            creator=caller.user_id,
            is_private=arg_bool(args, "is_private"),
        )
        ws.add_channel(ch)
        _join(ws, ch, caller.user_id)
        return {"channel": ch.to_api(caller.user_id)}


def invite(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """conversations.invite: any failing user fails the whole call unless force=true."""
    ch = get_channel(ws, caller, args)
    _not_for_dms(ch)
    require_not_archived(ch)
    require_member(ch, caller)
    users = list(dict.fromkeys(arg_list(args, "users")))
    if not users:
        raise SlackApiError("no_user")
    if len(users) > 1000:
        raise SlackApiError("too_many_users")
    with ws.mutate():
        errors: list[JSON] = []
        valid: list[str] = []
        for uid in users:
            user = ws.users.get(uid)
            code = None
            if uid == caller.user_id:
                code = "cant_invite_self"
            elif user is None or user.deleted:
                code = "user_not_found"
            elif uid in ch.members:
                code = "already_in_channel"
            if code:
                errors.append({"user": uid, "ok": False, "error": code})
            else:
                valid.append(uid)
        if errors and (not valid or not arg_bool(args, "force")):
            raise SlackApiError(errors[0]["error"], errors=errors)
        for uid in valid:
            _join(ws, ch, uid, inviter=caller.user_id)
        out: JSON = {"channel": ch.to_api(caller.user_id)}
        if errors:
            out["errors"] = errors
        return out


def _set_text(ws: Workspace, caller: Caller, args: JSON, field: str) -> JSON:
    ch = get_channel(ws, caller, args)
    _not_for_dms(ch)
    require_not_archived(ch)
    require_member(ch, caller)
    value = arg_str(args, field)
    if len(value) > MAX_TOPIC:
        raise SlackApiError("too_long")
    with ws.mutate() as emit:
        setattr(ch, field, TextSetting(value, caller.user_id, int(ws.now())))
        text = f"set the channel {field}: {value}" if value else f"cleared the channel {field}"
        system_message(ws, ch, caller.user_id, f"channel_{field}", text)
        emit({"type": f"channel_{field}_changed", "channel": ch.id, field: value})
        return {"channel": ch.to_api(caller.user_id)}


def set_topic(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """conversations.setTopic (≤ 250 characters)."""
    return _set_text(ws, caller, args, "topic")


def set_purpose(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """conversations.setPurpose (≤ 250 characters)."""
    return _set_text(ws, caller, args, "purpose")


def info(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """conversations.info."""
    with ws.lock:
        ch = get_channel(ws, caller, args)
        return {
            "channel": ch.to_api(caller.user_id, num_members=arg_bool(args, "include_num_members"))
        }


def open_conversation(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """conversations.open: one user gives the (stable) DM, several users a group DM."""
    with ws.mutate():
        if arg_str(args, "channel"):
            ch = get_channel(ws, caller, args)
            if not (ch.is_im or ch.is_mpim):
                raise SlackApiError("method_not_supported_for_channel_type")
            already = True
        else:
            users = [u for u in dict.fromkeys(arg_list(args, "users")) if u != caller.user_id]
            if not users:
                raise SlackApiError("users_list_not_supplied")
            if len(users) > 8:
                raise SlackApiError("too_many_users")
            for uid in users:
                if uid not in ws.users or ws.users[uid].deleted:
                    raise SlackApiError("user_not_found")
            if len(users) == 1:
                ch, already = ws.open_im(users[0])
            else:
                ch, already = _open_mpim(ws, caller, users)
        out: JSON = {"channel": ch.to_api(caller.user_id) if arg_bool(args, "return_im") else {}}
        out["channel"]["id"] = ch.id
        if already:
            out.update(no_op=True, already_open=True)
        return out


def _open_mpim(ws: Workspace, caller: Caller, users: list[str]) -> tuple[Channel, bool]:
    members = {*users, caller.user_id}
    for ch in ws.channels.values():
        if ch.is_mpim and ch.members == members:
            return ch, True
    names = "--".join(ws.users[u].name for u in [caller.user_id, *users])
    ch = Channel(
        id=ws.new_id("G"),
        name=f"mpdm-{names}-1",
        created=int(ws.now()),
        creator=caller.user_id,
        is_private=True,
        is_mpim=True,
        members=members,
    )
    return ws.add_channel(ch), False


def _in_range(args: JSON, ts: str) -> bool:
    key = ts_key(ts, "invalid_ts_latest")
    inclusive = arg_bool(args, "inclusive")
    latest = arg_str(args, "latest")
    oldest = arg_str(args, "oldest")
    if latest:
        bound = ts_key(latest, "invalid_ts_latest")
        if key > bound or (key == bound and not inclusive):
            return False
    if oldest:
        bound = ts_key(oldest, "invalid_ts_oldest")
        if key < bound or (key == bound and not inclusive):
            return False
    return True


def history(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """conversations.history: top-level messages, newest first; bots must be members."""
    with ws.lock:
        ch = get_channel(ws, caller, args)
        require_member(ch, caller)
        msgs = [m for m in ws.messages[ch.id].values() if m.is_top_level and _in_range(args, m.ts)]
        msgs.reverse()
        page, meta = paginate(args, msgs)
        return {
            "messages": [ws.message_to_api(m) for m in page],
            "has_more": bool(meta["next_cursor"]),
            "pin_count": len(ws.pins.get(ch.id, {})),
            "response_metadata": meta,
        }


def replies(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """conversations.replies: the parent, then its replies, oldest first."""
    with ws.lock:
        ch = get_channel(ws, caller, args)
        require_member(ch, caller)
        ts = arg_str(args, "ts", required="invalid_arguments")
        parent = ws.find_message(ch.id, ts)
        if parent is None:
            raise SlackApiError("thread_not_found")
        if parent.is_reply and parent.thread_ts:
            parent = ws.find_message(ch.id, parent.thread_ts) or parent
        thread = [parent, *ws.replies(ch.id, parent.ts)]
        page, meta = paginate(
            args, [m for m in thread if _in_range(args, m.ts)], default_limit=1000
        )
        return {
            "messages": [ws.message_to_api(m) for m in page],
            "has_more": bool(meta["next_cursor"]),
            "response_metadata": meta,
        }


def members(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """conversations.members."""
    with ws.lock:
        ch = get_channel(ws, caller, args)
        page, meta = paginate(args, sorted(ch.members))
        return {"members": page, "response_metadata": meta}


def join(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """conversations.join: public channels only; joining twice only warns."""
    with ws.mutate():
        ch = get_channel(ws, caller, args)
        if ch.is_private or ch.is_im or ch.is_mpim:
            raise SlackApiError("method_not_supported_for_channel_type")
        require_not_archived(ch)
        if caller.user_id in ch.members:
            return {
                "channel": ch.to_api(caller.user_id),
                "warning": "already_in_channel",
                "response_metadata": {"warnings": ["already_in_channel"]},
            }
        _join(ws, ch, caller.user_id)
        return {"channel": ch.to_api(caller.user_id)}


def archive(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """conversations.archive."""
    with ws.mutate() as emit:
        ch = get_channel(ws, caller, args)
        _not_for_dms(ch)
        if ch.is_general:
            raise SlackApiError("cant_archive_general")
        if ch.is_archived:
            raise SlackApiError("already_archived")
        require_member(ch, caller)
        system_message(ws, ch, caller.user_id, "channel_archive", "archived the channel")
        ch.is_archived = True
        emit({"type": "channel_archive", "channel": ch.id, "user": caller.user_id})
        return {}


_TYPES = {"public_channel", "private_channel", "mpim", "im"}


def _kind(ch: Channel) -> str:
    if ch.is_im:
        return "im"
    if ch.is_mpim:
        return "mpim"
    return "private_channel" if ch.is_private else "public_channel"


def list_conversations(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """conversations.list: the conversations of the given types the caller can see."""
    types = set(arg_list(args, "types")) or {"public_channel"}
    if not types <= _TYPES:
        raise SlackApiError("invalid_types")
    exclude_archived = arg_bool(args, "exclude_archived")
    with ws.lock:
        chans = [
            ch
            for ch in ws.channels.values()
            if _kind(ch) in types
            and can_see(ws, caller, ch)
            and not (exclude_archived and ch.is_archived)
        ]
        page, meta = paginate(args, chans)
        return {"channels": [c.to_api(caller.user_id) for c in page], "response_metadata": meta}


METHODS: dict[str, Method] = {
    "conversations.create": create,
    "conversations.invite": invite,
    "conversations.setTopic": set_topic,
    "conversations.setPurpose": set_purpose,
    "conversations.info": info,
    "conversations.open": open_conversation,
    "conversations.history": history,
    "conversations.replies": replies,
    "conversations.members": members,
    "conversations.join": join,
    "conversations.archive": archive,
    "conversations.list": list_conversations,
}
