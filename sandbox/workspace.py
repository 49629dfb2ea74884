"""In-memory state of the emulated Slack workspace, guarded by one re-entrant lock."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]
Event = dict[str, Any]
Subscriber = Callable[[Event], None]


@dataclass
class Team:
    """A Slack team (workspace or an external organisation)."""

    id: str
    name: str
    domain: str
    email_domain: str = ""

    def to_api(self) -> JSON:
        """Return the team object as team.info shows it."""
        return {
            "id": self.id,
            "name": self.name,
            "domain": self.domain,
            "email_domain": self.email_domain,
            "icon": {"image_default": True},
        }


@dataclass
class User:
    """A workspace member, a bot user or an external (Slack Connect) user."""

    id: str
    name: str
    real_name: str
    team_id: str
    tz: str = "America/Los_Angeles"
    tz_label: str = "Pacific Standard Time"
    tz_offset: int = -28800
    email: str | None = None
    is_bot: bool = False
    bot_id: str | None = None
    is_stranger: bool = False
    is_admin: bool = False
    deleted: bool = False
    display_name: str = ""

    def to_api(self) -> JSON:
        """Return the user object as users.info shows it."""
        profile: JSON = {
            "real_name": self.real_name,
            "real_name_normalized": self.real_name,
            "display_name": self.display_name or self.name,
            "display_name_normalized": self.display_name or self.name,
            "team": self.team_id,
            "image_48": f"https://avatars.sandbox.invalid/{self.id}_48.png",
        }
        if self.email and not self.is_bot:
            profile["email"] = self.email
        if self.bot_id:
            profile["bot_id"] = self.bot_id
        out: JSON = {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_label": self.tz_label,
            "tz_offset": self.tz_offset,
            "profile": profile,
            "is_admin": self.is_admin,
            "is_owner": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "is_restricted": False,
            "updated": 1700000000,
        }
        if self.is_stranger:
            out["is_stranger"] = True
        return out


@dataclass
class TextSetting:
    """A channel topic or purpose."""

    value: str = ""
    creator: str = ""
    last_set: int = 0

    def to_api(self) -> JSON:
        """Return the Slack shape {value, creator, last_set}."""
        return {"value": self.value, "creator": self.creator, "last_set": self.last_set}


@dataclass
class Channel:
    """A public or private channel, a DM (im) or a group DM (mpim)."""

    id: str
    name: str
    created: int
    creator: str
    is_private: bool = False
    is_im: bool = False
    is_mpim: bool = False
    is_general: bool = False
    is_archived: bool = False
    is_ext_shared: bool = False
    im_user: str | None = None
    topic: TextSetting = field(default_factory=TextSetting)
    purpose: TextSetting = field(default_factory=TextSetting)
    members: set[str] = field(default_factory=set)

    def to_api(self, viewer: str | None = None, *, num_members: bool = False) -> JSON:
        """Return the conversation object as conversations.info shows it to `viewer`."""
        if self.is_im:
            return {
                "id": self.id,
                "created": self.created,
                "is_im": True,
                "is_org_shared": False,
                "user": self.im_user,
                "is_user_deleted": False,
                "priority": 0,
            }
        out: JSON = {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": not self.is_private and not self.is_mpim,
            "is_group": self.is_private and not self.is_mpim,
            "is_im": False,
            "is_mpim": self.is_mpim,
            "is_private": self.is_private,
            "created": self.created,
            "creator": self.creator,
            "is_archived": self.is_archived,
            "is_general": self.is_general,
            "is_shared": self.is_ext_shared,
            "is_ext_shared": self.is_ext_shared,
            "is_org_shared": False,
            "is_member": viewer in self.members,
            "topic": self.topic.to_api(),
            "purpose": self.purpose.to_api(),
        }
        if num_members:
            out["num_members"] = len(self.members)
        return out


@dataclass
class Message:
    """A message in a channel; `thread_ts` set and != ts means a thread reply."""

    ts: str
    channel: str
    user: str
    text: str = ""
    blocks: list[JSON] | None = None
    attachments: list[JSON] | None = None
    bot_id: str | None = None
    thread_ts: str | None = None
    subtype: str | None = None
    team: str = ""
    reactions: dict[str, list[str]] = field(default_factory=dict)
    edited: JSON | None = None
    metadata: JSON | None = None

    @property
    def is_reply(self) -> bool:
        """True for a thread reply (not the parent, not a top-level message)."""
        return self.thread_ts is not None and self.thread_ts != self.ts

    @property
    def is_top_level(self) -> bool:
        """True when conversations.history lists it (top level or broadcast reply)."""
        return not self.is_reply or self.subtype == "thread_broadcast"


@dataclass
class Ephemeral:
    """A message only `user` can see; Slack never returns these from history."""

    ts: str
    channel: str
    user: str
    sender: str
    text: str = ""
    blocks: list[JSON] | None = None
    thread_ts: str | None = None
    bot_id: str | None = None


@dataclass
class Pin:
    """A pinned message."""

    channel: str
    ts: str
    created_by: str
    created: int


@dataclass
class View:
    """A modal or Home tab view as the app last sent it."""

    id: str
    type: str
    user: str | None
    view: JSON
    hash: str
    team_id: str
    bot_id: str | None
    root_view_id: str
    previous_view_id: str | None = None
    external_id: str = ""

    def to_api(self) -> JSON:
        """Return the view object as views.* responses show it."""
        out: JSON = {
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "clear_on_close": False,
            "notify_on_close": False,
            "external_id": "",
            **self.view,
        }
        out.update(
            id=self.id,
            team_id=self.team_id,
            type=self.type,
            hash=self.hash,
            root_view_id=self.root_view_id,
            previous_view_id=self.previous_view_id,
            app_id="A0SANDBOX",
            bot_id=self.bot_id,
            state={"values": {}},
        )
        return out


class Workspace:
    """All emulated state; every read or write happens under `lock`."""

    def __init__(
        self,
        team: Team,
        *,
        bot_user_id: str = "U0BOT",
        seeder: Callable[[Workspace], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.bot_user_id = bot_user_id
        self._seeder = seeder
        self._subscribers: list[Subscriber] = []
        self._pending: list[Event] = []
        self._depth = 0
        self.strict_triggers = False
        # Off = bots must be channel members to post (like a bot without chat:write.public).
        self.chat_write_public = False
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
            return f"{prefix}{next(self._ids):08X}"

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
            if msg.ts in self.pins.get(msg.channel, {}):
                out["pinned_to"] = [msg.channel]
            return out
