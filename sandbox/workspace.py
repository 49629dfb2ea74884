"""In-memory state of the emulated Slack workspace, guarded by one re-entrant lock."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sandbox.models import (
    JSON,
    Channel,
    Ephemeral,
    File,
    Message,
    Pin,
    Team,
    TextSetting,
    User,
    View,
)

Event = dict[str, Any]
Subscriber = Callable[[Event], None]

__all__ = [
    "JSON",
    "Channel",
    "Ephemeral",
    "Event",
    "File",
    "Message",
    "Pin",
    "Subscriber",
    "Team",
    "TextSetting",
    "User",
    "View",
    "Workspace",
]


class Workspace:
    """All emulated state; every read or write happens under `lock`."""

    def __init__(
        self,
        team: Team,
        *,
        bot_user_id: str = "U0BOT",
        seeder: Callable[[Workspace], None] | None = None,
        clock: Callable[[], float] = time.time,
        id_space: str = "",
    ) -> None:
        self.lock = threading.RLock()
        # Slack's ids are unique across workspaces: a second workspace mints its own.
        self.id_space = id_space
        self.clock = clock
        self.bot_user_id = bot_user_id
        self._seeder = seeder
        self._subscribers: list[Subscriber] = []
        self._pending: list[Event] = []
        self._depth = 0
        self.strict_triggers = False
        # Off = bots must be channel members to post (like a bot without chat:write.public).
        self.chat_write_public = False
        # Where the emulator serves HTTP (upload URLs and file downloads point there).
        self.base_url = "http://127.0.0.1"
        self._init_state(team)
        if seeder:
            seeder(self)

    def _init_state(self, team: Team) -> None:
        self.team = team
        self.teams: dict[str, Team] = {team.id: team}
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        # Per channel, ts -> message; insertion order is ts order because ts only grows.
        self.messages: dict[str, dict[str, Message]] = {}
        self.ephemerals: list[Ephemeral] = []
        self.pins: dict[str, dict[str, Pin]] = {}
        self.views: dict[str, View] = {}
        self.view_stacks: dict[str | None, list[str]] = {}
        self.home_views: dict[str, str] = {}
        self.triggers: dict[str, tuple[str | None, float]] = {}
        self.used_triggers: set[str] = set()
        self.ims: dict[str, str] = {}
        # User groups ("subteams"): id -> (handle, member ids).
        self.usergroups: dict[str, tuple[str, set[str]]] = {}
        # Uploaded files by id, and the upload URL ids waiting for their bytes.
        self.files: dict[str, File] = {}
        self.uploads: dict[str, str] = {}
        self._ids = itertools.count(1)
        self._last_us = 0

    def reset(self) -> None:
        """Drop all state and re-run the seeder; subscribers stay attached."""
        with self.mutate() as emit:
            self._init_state(self.team)
            if self._seeder:
                self._seeder(self)
            emit({"type": "workspace_reset"})

    # --- change notification -------------------------------------------------

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call `callback(event)` after every state change; returns an unsubscribe function."""
        with self.lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self.lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    @contextmanager
    def mutate(self) -> Iterator[Callable[[Event], None]]:
        """Hold the lock while changing state; events are delivered after it is released."""
        with self.lock:
            self._depth += 1
            try:
                yield self._pending.append
            finally:
                self._depth -= 1
                if self._depth == 0:
                    events, self._pending = self._pending, []
                    subscribers = list(self._subscribers)
                else:
                    events, subscribers = [], []
        # Delivered outside the lock so a slow or re-entrant subscriber cannot deadlock callers.
        for event in events:
            for callback in subscribers:
                callback(event)

    # --- ids and time --------------------------------------------------------

    def now(self) -> float:
        """Current time according to the workspace clock."""
        return self.clock()

    def new_id(self, prefix: str) -> str:
        """Return a fresh Slack-looking id such as 'C0000000A'."""
        with self.lock:
            return f"{prefix}{self.id_space}{next(self._ids):08X}"

    def next_ts(self) -> str:
        """Return a message ts strictly greater than every previous one."""
        with self.lock:
            us = max(int(self.clock() * 1_000_000), self._last_us + 1)
            self._last_us = us
            return f"{us // 1_000_000}.{us % 1_000_000:06d}"

    def issue_trigger(self, user_id: str | None) -> str:
        """Mint a trigger_id for `user_id`, valid for views.open/push for 3 seconds."""
        with self.lock:
            now = self.now()
            trigger = f"{int(now)}.{next(self._ids)}.{abs(hash((user_id, now))):x}"
            self.triggers[trigger] = (user_id, now)
            return trigger

    # --- lookups -------------------------------------------------------------

    @property
    def bot(self) -> User:
        """The app's bot user."""
        return self.users[self.bot_user_id]

    def channel_by_name(self, name: str) -> Channel | None:
        """Find a non-DM channel by name (a leading '#' is ignored)."""
        name = name.removeprefix("#")
        with self.lock:
            for ch in self.channels.values():
                if ch.name == name and not ch.is_im:
                    return ch
        return None

    def add_user(self, user: User) -> User:
        """Add (or replace) a user."""
        with self.mutate() as emit:
            self.users[user.id] = user
            emit({"type": "user_change", "user": user.to_api()})
        return user

    def add_channel(self, channel: Channel) -> Channel:
        """Add a channel and announce it."""
        with self.mutate() as emit:
            self.channels[channel.id] = channel
            self.messages.setdefault(channel.id, {})
            self.pins.setdefault(channel.id, {})
            kind = "im_created" if channel.is_im else "channel_created"
            emit({"type": kind, "channel": channel.to_api()})
        return channel

    def open_im(self, user_id: str) -> tuple[Channel, bool]:
        """Return the bot's DM with `user_id`, creating it once; second item: already open."""
        with self.mutate():
            existing = self.ims.get(user_id)
            if existing:
                return self.channels[existing], True
            ch = Channel(
                id=self.new_id("D"),
                name=user_id,
                created=int(self.now()),
                creator=self.bot_user_id,
                is_private=True,
                is_im=True,
                im_user=user_id,
                members={self.bot_user_id, user_id},
            )
            self.ims[user_id] = ch.id
            self.add_channel(ch)
            return ch, False

    def find_message(self, channel_id: str, ts: str) -> Message | None:
        """Return the message with that ts in that channel, if any."""
        with self.lock:
            return self.messages.get(channel_id, {}).get(ts)

    def replies(self, channel_id: str, thread_ts: str) -> list[Message]:
        """Return the thread replies to `thread_ts`, oldest first (parent excluded)."""
        with self.lock:
            return [
                m
                for m in self.messages.get(channel_id, {}).values()
                if m.thread_ts == thread_ts and m.ts != thread_ts
            ]

    # --- writes shared by the Web API and the test helpers --------------------

    def add_message(self, msg: Message) -> Message:
        """Store a message and announce it like a Slack `message` event."""
        with self.mutate() as emit:
            if not msg.team:
                author = self.users.get(msg.user)
                msg.team = author.team_id if author else self.team.id
            self.messages.setdefault(msg.channel, {})[msg.ts] = msg
            if msg.thread_ts and msg.thread_ts != msg.ts:
                parent = self.find_message(msg.channel, msg.thread_ts)
                if parent and parent.thread_ts is None:
                    parent.thread_ts = parent.ts
            emit(self.message_event(msg))
        return msg

    def message_event(self, msg: Message) -> Event:
        """Build a Slack-like `message` event for a stored message."""
        ch = self.channels.get(msg.channel)
        channel_type = "channel"
        if ch and ch.is_im:
            channel_type = "im"
        elif ch and ch.is_mpim:
            channel_type = "mpim"
        elif ch and ch.is_private:
            channel_type = "group"
        return {**self.message_to_api(msg), "channel": msg.channel, "channel_type": channel_type}

    def message_to_api(self, msg: Message) -> JSON:
        """Return the message object as conversations.history shows it."""
        with self.lock:
            out: JSON = {"type": "message", "user": msg.user, "text": msg.text, "ts": msg.ts}
            out["team"] = msg.team or self.team.id
            if msg.subtype:
                out["subtype"] = msg.subtype
            if msg.blocks is not None:
                out["blocks"] = msg.blocks
            if msg.attachments is not None:
                out["attachments"] = msg.attachments
            if msg.bot_id:
                out["bot_id"] = msg.bot_id
                out["app_id"] = "A0SANDBOX"
                out["bot_profile"] = {"id": msg.bot_id, "name": self.users[msg.user].name}
            if msg.thread_ts:
                out["thread_ts"] = msg.thread_ts
                if msg.thread_ts == msg.ts:
                    replies = self.replies(msg.channel, msg.ts)
                    out["reply_count"] = len(replies)
                    out["reply_users"] = sorted({r.user for r in replies})
                    if replies:
                        out["latest_reply"] = replies[-1].ts
            if msg.reactions:
                out["reactions"] = [
                    {"name": name, "users": list(users), "count": len(users)}
                    for name, users in msg.reactions.items()
                ]
            if msg.edited:
                out["edited"] = dict(msg.edited)
            if msg.metadata:
                out["metadata"] = msg.metadata
            if msg.files:
                out["files"] = [dict(f) for f in msg.files]
                out["upload"] = False
                out["display_as_bot"] = False
            if msg.ts in self.pins.get(msg.channel, {}):
                out["pinned_to"] = [msg.channel]
            return out
