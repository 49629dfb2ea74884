"""An in-memory SlackPort for service tests that run without Slack."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from bot.services.port import Person, PostedMessage, SlackFailure


@dataclass
class Effect:
    name: str
    args: dict[str, Any]


@dataclass
class RecordingSlack:
    """Records each effect; ``fail_on`` makes one effect fail with a Slack error code."""

    effects: list[Effect] = field(default_factory=list)
    fail_on: dict[str, str] = field(default_factory=dict)
    messages: dict[str, PostedMessage] = field(default_factory=dict)
    keyed: dict[str, str] = field(default_factory=dict)
    channels: list[tuple[str, str]] = field(default_factory=list)
    shared: set[str] = field(default_factory=set)
    # Who is not a teammate; everyone else is one.
    outsiders: dict[str, Person] = field(default_factory=dict)
    # Slack profiles' time zones; nobody has one unless a test says so.
    time_zones: dict[str, str] = field(default_factory=dict)
    _ts: int = 0

    def _record(self, effect: str, /, **args: Any) -> None:
        if effect in self.fail_on:
            raise SlackFailure(effect, self.fail_on[effect])
        self.effects.append(Effect(effect, args))

    def _next_ts(self) -> str:
        self._ts += 1
        return f"1700000000.{self._ts:06d}"

    def keep_place(self) -> AbstractContextManager[None]:
        return nullcontext()

    def named(self, name: str) -> list[Effect]:
        return [e for e in self.effects if e.name == name]

    def create_channel(self, *, name: str, first: int = 1, last: int = 50) -> tuple[str, str]:
        self._record("create_channel", name=name)
        channel = (f"C{len(self.named('create_channel')):04d}", name)
        self.channels.append(channel)
        return channel

    def set_topic(self, *, channel: str, topic: str) -> None:
        self._record("set_topic", channel=channel, topic=topic)

    def invite(self, *, channel: str, users: Sequence[str]) -> list[str]:
        self._record("invite", channel=channel, users=list(users))
        return []

    def post(
        self,
        *,
        channel: str,
        text: str,
        blocks: Any = None,
        thread_ts: Any = None,
        key: str | None = None,
    ) -> str:
        self._record("post", channel=channel, text=text, blocks=blocks, key=key)
        ts = self._next_ts()
        if key:
            self.keyed[key] = ts
        return ts

    def is_shared(self, *, channel: str) -> bool:
        return channel in self.shared

    def person(self, *, user: str) -> Person:
        return self.outsiders.get(user) or Person(id=user, name=user)

    def time_zone(self, *, user: str) -> str | None:
        return self.time_zones.get(user)

    def find_posted(self, *, channel: str, key: str, since: Any) -> str | None:
        self._record("find_posted", channel=channel, key=key)
        return self.keyed.get(key)

    def find_channels(self, *, name: str, since: Any) -> list[tuple[str, str]]:
        self._record("find_channels", name=name)
        return [(cid, cname) for cid, cname in self.channels if cname.startswith(name)]

    def update(self, *, channel: str, ts: str, text: str, blocks: Any = None) -> None:
        self._record("update", channel=channel, ts=ts, text=text, blocks=blocks)

    def pin(self, *, channel: str, ts: str) -> None:
        self._record("pin", channel=channel, ts=ts)

    def dm(self, *, user: str, text: str, blocks: Any = None, key: str | None = None) -> str:
        self._record("dm", user=user, text=text, blocks=blocks)
        return self._next_ts()

    def ephemeral(self, *, channel: str, user: str, text: str, blocks: Any = None) -> None:
        self._record("ephemeral", channel=channel, user=user, text=text)

    def fetch_message(self, *, channel: str, ts: str) -> PostedMessage | None:
        return self.messages.get(ts)
