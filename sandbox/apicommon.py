"""Shared pieces of the Web API methods: the error type, the caller and argument helpers."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sandbox.workspace import JSON, Channel, Workspace

T = TypeVar("T")


class SlackApiError(Exception):
    """A Slack error answer: `{"ok": false, "error": code, **extra}` with HTTP 200."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


@dataclass(frozen=True)
class Caller:
    """Whoever the token belongs to (the bot, or a user for user tokens)."""

    user_id: str
    team_id: str
    bot_id: str | None = None


Method = Callable[[Workspace, Caller, JSON], JSON]


def arg_str(args: JSON, name: str, *, required: str | None = None) -> str:
    """Return a string argument ('' if absent); raise `required` as the error when empty."""
    value = args.get(name)
    text = "" if value is None else str(value)
    if required and not text:
        raise SlackApiError(required)
    return text


def arg_bool(args: JSON, name: str, default: bool = False) -> bool:
    """Return a boolean argument; forms send 'true'/'1', JSON sends true."""
    value = args.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true", "yes")


def arg_int(args: JSON, name: str, default: int, *, error: str = "invalid_limit") -> int:
    """Return an integer argument; a non-integer raises `error`."""
    value = args.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SlackApiError(error) from None


def arg_json(args: JSON, name: str, *, error: str = "invalid_arguments") -> Any:
    """Return a JSON-valued argument, decoding it when it arrived as a form string."""
    value = args.get(name)
    if isinstance(value, str):
        if not value:
            return None
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise SlackApiError(error, response_metadata=_meta(f"{name} is not JSON")) from None
    return value


def arg_list(args: JSON, name: str) -> list[str]:
    """Return a comma-separated (or JSON array) argument as a list of non-empty items."""
    value = args.get(name)
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value or "").split(",") if part.strip()]


def _meta(message: str) -> JSON:
    return {"messages": [f"[ERROR] {message}"]}


def error_with_detail(code: str, detail: str) -> SlackApiError:
    """Build an error carrying Slack's `response_metadata.messages` explanation."""
    return SlackApiError(code, response_metadata=_meta(detail))


def paginate(args: JSON, items: Sequence[T], *, default_limit: int = 100) -> tuple[list[T], JSON]:
    """Apply `limit` and `cursor`; return the page and `response_metadata`."""
    limit = arg_int(args, "limit", default_limit)
    if limit <= 0:
        limit = default_limit
    start = 0
    cursor = arg_str(args, "cursor")
    if cursor:
        try:
            start = int(base64.b64decode(cursor).decode().removeprefix("offset:"))
        except (ValueError, UnicodeDecodeError):
            raise SlackApiError("invalid_cursor") from None
    page = list(items[start : start + limit])
    more = start + limit < len(items)
    next_cursor = base64.b64encode(f"offset:{start + limit}".encode()).decode() if more else ""
    return page, {"next_cursor": next_cursor}


def can_see(ws: Workspace, caller: Caller, ch: Channel) -> bool:
    """Public channels are visible to all; private ones and DMs only to members."""
    if ch.is_private or ch.is_im or ch.is_mpim:
        return caller.user_id in ch.members
    return True


def get_channel(ws: Workspace, caller: Caller, args: JSON, name: str = "channel") -> Channel:
    """Return the visible channel named by argument `name`, else `channel_not_found`."""
    cid = arg_str(args, name, required="channel_not_found")
    ch = ws.channels.get(cid)
    if ch is None or not can_see(ws, caller, ch):
        raise SlackApiError("channel_not_found")
    return ch


def require_member(ch: Channel, caller: Caller) -> None:
    """Raise `not_in_channel` unless the caller is a member."""
    if caller.user_id not in ch.members:
        raise SlackApiError("not_in_channel")


def require_not_archived(ch: Channel) -> None:
    """Raise `is_archived` for an archived channel."""
    if ch.is_archived:
        raise SlackApiError("is_archived")
