"""What the services need from Slack, as a protocol the gateway implements."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from bot.customer.guard import CheckedMessage

Blocks = list[dict[str, Any]]


class SlackFailure(Exception):
    """A Web API call failed for good (after retries); ``error`` is Slack's code.

    ``transient``: Slack was rate limiting, failing (5xx) or unreachable for the whole retry
    budget, rather than refusing the call; the same call may well work later."""

    def __init__(
        self, method: str, error: str, *, transient: bool = False, waited: float = 0.0
    ) -> None:
        super().__init__(f"{method} failed: {error}")
        self.method = method
        self.error = error
        self.transient = transient
        # Seconds spent retrying before giving up.
        self.waited = waited


@dataclass(frozen=True)
class PostedMessage:
    """A message someone posted, as the services need it."""

    user: str | None
    text: str
    ts: str


@dataclass(frozen=True)
class Person:
    """Who someone is, as far as taking part in a crisis goes.

    ``external`` for people from another organisation (Slack Connect) and anyone Slack will
    not show us; ``organisation`` is then their organisation's name when Slack tells it.
    ``guest`` for single- and multi-channel guests of our own workspace.
    """

    id: str
    name: str
    external: bool = False
    guest: bool = False
    organisation: str | None = None
    # Their IANA time zone as Slack's profile has it (``users.info`` ``tz``), when it does;
    # not part of who they are.
    time_zone: str | None = field(default=None, compare=False)

    @property
    def is_teammate(self) -> bool:
        """A full member of our own workspace: the only people who take part in a crisis."""
        return not self.external and not self.guest


class SlackPort(Protocol):
    """The Slack effects the crisis logic asks for."""

    def create_channel(self, *, name: str, first: int = 1, last: int = 50) -> tuple[str, str]:
        """Create a public channel: attempt 1 is ``name``, then ``name-2``, … up to ``last``
        while Slack answers ``name_taken``; (id, name)."""
        ...

    def set_topic(self, *, channel: str, topic: str) -> None: ...

    def invite(self, *, channel: str, users: Sequence[str]) -> list[str]:
        """Invite people into a channel; anyone who is not a teammate is left out. Returns
        those Slack could not invite (someone already there is fine)."""
        ...

    def post(
        self,
        *,
        channel: str,
        text: str,
        blocks: Blocks | None = None,
        thread_ts: str | None = None,
        key: str | None = None,
    ) -> str:
        """Post a message (to a channel, or a user id for a DM); returns its ts.

        ``key`` goes into the message's metadata so ``find_posted`` can find it after a crash.
        A DM to someone who is not a teammate (another organisation, a guest) is never sent:
        the ts is then ``""``.
        """
        ...

    def post_to_customer(
        self, *, channel: str, message: CheckedMessage, key: str | None = None
    ) -> str:
        """Post ``message`` in a customer channel (the only way there); returns its ts.
        ``SlackFailure("chat.postMessage", "not_in_channel")`` when the bot is not a member.
        ``key`` goes into its metadata, for ``find_posted`` after a crash (a broadcast)."""
        ...

    def is_shared(self, *, channel: str) -> bool:
        """Whether the channel has members from another organisation (Slack Connect)."""
        ...

    def person(self, *, user: str) -> Person:
        """Who ``user`` is: a teammate, a guest or someone from another organisation."""
        ...

    def time_zone(self, *, user: str) -> str | None:
        """``user``'s IANA time zone from their Slack profile, or None when Slack has none."""
        ...

    def user_by_email(self, *, email: str) -> str | None:
        """The id of this workspace's member with ``email``, or None."""
        ...

    def find_posted(self, *, channel: str, key: str, since: datetime) -> str | None:
        """The ts of the bot's message carrying ``key`` posted since ``since``, if any."""
        ...

    def find_channels(self, *, name: str, since: datetime) -> list[tuple[str, str]]:
        """Channels the bot created since ``since`` named ``name`` or ``name-N``: (id, name)."""
        ...

    def upload_file(
        self,
        *,
        channel: str,
        filename: str,
        content: bytes,
        title: str,
        alt_txt: str = "",
        initial_comment: str | None = None,
    ) -> str:
        """Share a file in ``channel`` (Slack's ``files_upload_v2``); returns the file id."""
        ...

    def find_file(self, *, channel: str, filename: str, since: datetime) -> str | None:
        """The id of a file named ``filename`` the bot shared in ``channel`` since ``since``."""
        ...

    def update(self, *, channel: str, ts: str, text: str, blocks: Blocks | None = None) -> None: ...

    def pin(self, *, channel: str, ts: str) -> None: ...

    def dm(
        self, *, user: str, text: str, blocks: Blocks | None = None, key: str | None = None
    ) -> str:
        """Send a direct message from the bot; returns its ts."""
        ...

    def ephemeral(
        self, *, channel: str, user: str, text: str, blocks: Blocks | None = None
    ) -> None: ...

    def fetch_message(self, *, channel: str, ts: str) -> PostedMessage | None: ...

    def keep_place(self) -> AbstractContextManager[None]:
        """Within the block, this thread's posts keep the place in Slack's queue it took when
        the block began: when the rate limits leave room for only some, work begun earlier
        (an earlier-due nag) goes first."""
        ...


def post_once(
    slack: SlackPort,
    *,
    channel: str,
    key: str,
    text: str,
    blocks: Blocks | None = None,
    look_since: datetime | None = None,
) -> str:
    """Post a keyed message; its ts. With ``look_since`` (a retry after a crash), first look
    for the message a dead process may already have posted since then, and post only if not."""
    found = slack.find_posted(channel=channel, key=key, since=look_since) if look_since else None
    return found or slack.post(channel=channel, text=text, blocks=blocks, key=key)
