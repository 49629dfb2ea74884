"""chat.* methods."""

from __future__ import annotations

from typing import Any

from sandbox.apicommon import (
    Caller,
    Method,
    SlackApiError,
    arg_bool,
    arg_json,
    arg_str,
    can_see,
    get_channel,
    require_not_archived,
)
from sandbox.blockkit import BlockError, validate_blocks
from sandbox.workspace import JSON, Channel, Ephemeral, Message, Workspace

MAX_TEXT = 40_000
MAX_ATTACHMENTS = 100


def resolve_post_target(ws: Workspace, caller: Caller, target: str) -> Channel:
    """Resolve chat.postMessage's `channel`: an id, a user id (-> the DM) or a channel name."""
    if not target:
        raise SlackApiError("channel_not_found")
    user = ws.users.get(target)
    if user is not None:
        if user.deleted:
            raise SlackApiError("channel_not_found")
        return ws.open_im(user.id)[0]
    ch = ws.channels.get(target) or ws.channel_by_name(target)
    if ch is None or not can_see(ws, caller, ch):
        raise SlackApiError("channel_not_found")
    return ch


def require_can_post(ws: Workspace, caller: Caller, ch: Channel) -> None:
    """Bots must be members to post, except with chat:write.public in public channels."""
    require_not_archived(ch)
    if caller.user_id in ch.members:
        return
    if ws.chat_write_public and not (ch.is_private or ch.is_im or ch.is_mpim):
        return
    raise SlackApiError("not_in_channel")


def parse_blocks(args: JSON, *, max_blocks: int = 50) -> list[JSON] | None:
    """Decode and validate `blocks`; Slack answers `invalid_blocks` with the broken rule."""
    blocks = arg_json(args, "blocks", error="invalid_blocks_format")
    if blocks is None:
        return None
    if not isinstance(blocks, list):
        raise SlackApiError("invalid_blocks_format")
    try:
        validate_blocks(blocks, max_blocks=max_blocks)
    except BlockError as exc:
        raise SlackApiError(
            "invalid_blocks",
            errors=[str(exc)],
            response_metadata={"messages": [f"[ERROR] {exc}"]},
        ) from None
    return blocks


def parse_content(args: JSON) -> tuple[str, list[JSON] | None, list[JSON] | None]:
    """Return (text, blocks, attachments) or raise no_text / msg_too_long / invalid_blocks."""
    text = arg_str(args, "text")
    blocks = parse_blocks(args)
    attachments: Any = arg_json(args, "attachments", error="invalid_attachments")
    if attachments is not None:
        if not isinstance(attachments, list):
            raise SlackApiError("invalid_attachments")
        if len(attachments) > MAX_ATTACHMENTS:
            raise SlackApiError("too_many_attachments")
    if not text and not blocks and not attachments:
        raise SlackApiError("no_text")
    if len(text) > MAX_TEXT:
        raise SlackApiError("msg_too_long")
    return text, blocks or None, attachments or None


def _thread_root(ws: Workspace, ch: Channel, thread_ts: str) -> str | None:
    if not thread_ts:
        return None
    parent = ws.find_message(ch.id, thread_ts)
    # A reply's ts given as thread_ts lands in the same thread, as in Slack.
    if parent is not None and parent.is_reply and parent.thread_ts:
        return parent.thread_ts
    return thread_ts


def post_message(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """chat.postMessage; a user id as `channel` posts in the bot's DM with that user."""
    text, blocks, attachments = parse_content(args)
    metadata = arg_json(args, "metadata", error="invalid_metadata_format")
    with ws.mutate():
        ch = resolve_post_target(ws, caller, arg_str(args, "channel"))
        require_can_post(ws, caller, ch)
        thread_ts = _thread_root(ws, ch, arg_str(args, "thread_ts"))
        broadcast = bool(thread_ts) and arg_bool(args, "reply_broadcast")
        msg = ws.add_message(
            Message(
                ts=ws.next_ts(),
                channel=ch.id,
                user=caller.user_id,
                text=text,
                blocks=blocks,
                attachments=attachments,
                bot_id=caller.bot_id,
                thread_ts=thread_ts,
                subtype="thread_broadcast" if broadcast else None,
                metadata=metadata if isinstance(metadata, dict) else None,
            )
        )
        return {"channel": ch.id, "ts": msg.ts, "message": ws.message_to_api(msg)}


def _own_message(ws: Workspace, caller: Caller, args: JSON, ts_arg: str, deny: str) -> Message:
    ch = get_channel(ws, caller, args)
    ts = arg_str(args, ts_arg, required="message_not_found")
    msg = ws.find_message(ch.id, ts)
    if msg is None or msg.subtype == "tombstone":
        raise SlackApiError("message_not_found")
    if msg.user != caller.user_id or msg.subtype not in (None, "thread_broadcast"):
        raise SlackApiError(deny)
    return msg


def update(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """chat.update: only the caller's own messages; omitted blocks keep the old ones."""
    with ws.mutate() as emit:
        msg = _own_message(ws, caller, args, "ts", "cant_update_message")
        text = arg_str(args, "text")
        blocks = parse_blocks(args)
        attachments = arg_json(args, "attachments", error="invalid_attachments")
        if not text and blocks is None and attachments is None:
            raise SlackApiError("no_text")
        if len(text) > MAX_TEXT:
            raise SlackApiError("msg_too_long")
        previous = ws.message_to_api(msg)
        if "text" in args:
            msg.text = text
        if blocks is not None:
            msg.blocks = blocks or None
        if attachments is not None:
            msg.attachments = attachments or None
        msg.edited = {"user": caller.user_id, "ts": ws.next_ts()}
        current = ws.message_to_api(msg)
        emit(
            {
                "type": "message",
                "subtype": "message_changed",
                "channel": msg.channel,
                "ts": msg.edited["ts"],
                "message": current,
                "previous_message": previous,
            }
        )
        return {"channel": msg.channel, "ts": msg.ts, "text": msg.text, "message": current}


def delete(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """chat.delete: a thread parent with replies leaves a tombstone, as in Slack."""
    with ws.mutate() as emit:
        msg = _own_message(ws, caller, args, "ts", "cant_delete_message")
        previous = ws.message_to_api(msg)
        ws.pins.get(msg.channel, {}).pop(msg.ts, None)
        if msg.thread_ts == msg.ts and ws.replies(msg.channel, msg.ts):
            msg.text, msg.blocks, msg.attachments = "This message was deleted.", None, None
            msg.subtype, msg.reactions = "tombstone", {}
        else:
            del ws.messages[msg.channel][msg.ts]
        emit(
            {
                "type": "message",
                "subtype": "message_deleted",
                "channel": msg.channel,
                "deleted_ts": msg.ts,
                "previous_message": previous,
            }
        )
        return {"channel": msg.channel, "ts": msg.ts}


def post_ephemeral(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """chat.postEphemeral: visible to `user` only, who must be in the channel."""
    text, blocks, _ = parse_content(args)
    with ws.mutate() as emit:
        ch = resolve_post_target(ws, caller, arg_str(args, "channel"))
        require_can_post(ws, caller, ch)
        user_id = arg_str(args, "user", required="user_not_in_channel")
        if user_id not in ws.users:
            raise SlackApiError("user_not_found")
        if user_id not in ch.members:
            raise SlackApiError("user_not_in_channel")
        eph = Ephemeral(
            ts=ws.next_ts(),
            channel=ch.id,
            user=user_id,
            sender=caller.user_id,
            text=text,
            blocks=blocks,
            thread_ts=_thread_root(ws, ch, arg_str(args, "thread_ts")),
            bot_id=caller.bot_id,
        )
        ws.ephemerals.append(eph)
        emit(ephemeral_event(eph))
        return {"message_ts": eph.ts}


def ephemeral_event(eph: Ephemeral) -> JSON:
    """Sandbox-only event so a page can show an ephemeral message to its one viewer."""
    return {
        "type": "ephemeral_message",
        "channel": eph.channel,
        "user": eph.user,
        "sender": eph.sender,
        "ts": eph.ts,
        "text": eph.text,
        "blocks": eph.blocks,
        "thread_ts": eph.thread_ts,
    }


def permalink(ws: Workspace, channel_id: str, ts: str, thread_ts: str | None = None) -> str:
    """Return Slack's permalink format for a message."""
    link = f"https://{ws.team.domain}.slack.com/archives/{channel_id}/p{ts.replace('.', '')}"
    if thread_ts and thread_ts != ts:
        link += f"?thread_ts={thread_ts}&cid={channel_id}"
    return link


def get_permalink(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """chat.getPermalink."""
    with ws.lock:
        ch = get_channel(ws, caller, args)
        msg = ws.find_message(ch.id, arg_str(args, "message_ts", required="message_not_found"))
        if msg is None:
            raise SlackApiError("message_not_found")
        return {"channel": ch.id, "permalink": permalink(ws, ch.id, msg.ts, msg.thread_ts)}


METHODS: dict[str, Method] = {
    "chat.postMessage": post_message,
    "chat.update": update,
    "chat.delete": delete,
    "chat.postEphemeral": post_ephemeral,
    "chat.getPermalink": get_permalink,
}
