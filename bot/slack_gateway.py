"""The one place that calls Slack's Web API for the crisis logic."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, TypeVar, cast

import cachetools
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.customer.guard import CheckedMessage
from bot.ratelimit import RateLimiter
from bot.services.naming import with_suffix
from bot.services.port import Blocks, Person, PostedMessage, SlackFailure
from bot.slack_retry import (
    SERVER_ERRORS,
    RetryTime,
    SlackRetryHandler,
    looking_before_resending,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_NAME_ATTEMPTS = 50
METADATA_EVENT = "crisisbot_message"
# Who is external, which channels are shared, who is in a group: changes rarely.
CACHE_SECONDS = 300.0
SHARED_FLAGS = ("is_ext_shared", "is_shared", "is_pending_ext_shared", "is_org_shared")
# Invite errors about one user (not the channel or the token), which others should not suffer.
PER_USER_INVITE_ERRORS = {
    "already_in_channel",
    "user_not_found",
    "cant_invite",
    "cant_invite_self",
    "user_is_restricted",
    "user_is_ultra_restricted",
    "ura_max_channels",
    "not_allowed_token_type",
}


# CRISISBOT_SLACK_RETRY_FOR's default, for clients built outside the runtime.
RETRY_FOR = 600.0


def make_client(
    *,
    token: str | None,
    base_url: str,
    timeout: int = 10,
    retry_for: float = RETRY_FOR,
    time_source: RetryTime | None = None,
) -> WebClient:
    """A WebClient that waits out 429s and retries 5xx and connection errors with backoff
    for up to ``retry_for`` seconds (``CRISISBOT_SLACK_RETRY_FOR``) before giving up."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[SlackRetryHandler(retry_for=retry_for, time_source=time_source)],
    )


class SlackGateway:
    """Implements ``SlackPort`` with a ``WebClient``; every failure becomes ``SlackFailure``."""

    def __init__(self, client: WebClient, *, limiter: RateLimiter | None = None) -> None:
        self.client = client
        self.limiter = limiter or RateLimiter()
        # The retries' clock (injected in tests), to say how long Slack was retried.
        handler = next((h for h in client.retry_handlers if isinstance(h, SlackRetryHandler)), None)
        self._clock = handler.time.clock if handler else time.monotonic
        self._retry = handler
        self._cache = LookupCache(seconds=CACHE_SECONDS)
        self._identity_cache = LookupCache(seconds=float("inf"))

    def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        self.limiter.acquire(method, channel=kwargs.get("channel"))
        started = self._clock()
        try:
            # The SDK's typed method knows each method's wire format (JSON, form or query);
            # its retry handler waits out 429s, 5xx and dropped connections.
            call = getattr(self.client, method.replace(".", "_"))
            try:
                response = call(**_drop_none(kwargs))
            finally:
                self.limiter.finished()
        except SlackApiError as error:
            code = str(error.response.get("error", "unknown_error"))
            status = error.response.status_code
            transient = status == 429 or status in SERVER_ERRORS
            waited = self._clock() - started
            raise SlackFailure(method, code, transient=transient, waited=waited) from None
        except (SlackClientError, OSError) as error:
            waited = self._clock() - started
            raise SlackFailure(
                method, f"connection failed ({error})", transient=True, waited=waited
            ) from None
        return dict(response.data) if isinstance(response.data, dict) else {}

    @property
    def bot_user_id(self) -> str:
        return self._identity()[0]

    @property
    def team_id(self) -> str:
        return self._identity()[1]

    def _identity(self) -> tuple[str, str]:
        """Who the bot is, asked of Slack once per process (not once per worker thread)."""

        def look_up() -> tuple[str, str]:
            data = self._call("auth.test")
            return str(data.get("user_id", "")), str(data.get("team_id", ""))

        return self._identity_cache.get("identity", look_up)

    def keep_place(self) -> AbstractContextManager[None]:
        return self.limiter.in_line("chat.postMessage")

    def learn_identity(self, *, bot_user_id: str, team_id: str) -> None:
        """Who the bot is, as Bolt's own ``auth.test`` at start found it: no second call."""
        if bot_user_id and team_id:
            self._identity_cache.get("identity", lambda: (bot_user_id, team_id))

    def person(self, *, user: str) -> Person:
        """Who ``user`` is: teammate, guest or from another organisation (one ``users.info``
        per person per five minutes; the acting user of every request is checked with it)."""

        def look_up() -> Person:
            try:
                info = self._call("users.info", user=user)["user"]
            except SlackFailure as failure:
                if failure.error == "user_not_found":
                    # Someone Slack will not show us is not one of ours.
                    return Person(id=user, name=user, external=True)
                raise
            profile = info.get("profile") or {}
            name = str(
                profile.get("real_name")
                or info.get("real_name")
                or profile.get("display_name")
                or info.get("name")
                or user
            )
            team = info.get("team_id") or profile.get("team")
            if info.get("is_stranger") or (team and team != self.team_id):
                organisation = self._organisation(str(team)) if team else None
                return Person(id=user, name=name, external=True, organisation=organisation)
            guest = bool(info.get("is_restricted") or info.get("is_ultra_restricted"))
            return Person(id=user, name=name, guest=guest, time_zone=info.get("tz") or None)

        return self._cache.get(("person", user), look_up)

    def time_zone(self, *, user: str) -> str | None:
        """``user``'s IANA time zone (``users.info`` ``tz``): the same cached look-up as
        ``person``, so checking a new owner and learning their zone is one call."""
        return self.person(user=user).time_zone

    def _organisation(self, team: str) -> str | None:
        """The name of another organisation, for telling people who someone is."""

        def look_up() -> str | None:
            try:
                return str(self._call("team.info", team=team)["team"]["name"]) or None
            except (SlackFailure, KeyError, TypeError) as failure:
                log.info("cannot name the organisation %s: %s", team, failure)
                return None

        return self._cache.get(("organisation", team), look_up)

    def is_external(self, *, user: str) -> bool:
        """Whether ``user`` belongs to another organisation (Slack Connect)."""
        return self.person(user=user).external

    def user_by_email(self, *, email: str) -> str | None:
        """The user id of this workspace's member with ``email``; None if there is none."""
        try:
            found = self._call("users.lookupByEmail", email=email)
        except SlackFailure as failure:
            if failure.error == "users_not_found":
                return None
            raise
        return str(found["user"]["id"])

    def is_shared(self, *, channel: str) -> bool:
        """Whether ``channel`` has members from another organisation (Slack Connect)."""

        def look_up() -> bool:
            info = self._call("conversations.info", channel=channel)["channel"]
            return any(info.get(flag) for flag in SHARED_FLAGS)

        return self._cache.get(("shared", channel), look_up)

    def group_members(self, *, group: str) -> set[str]:
        """The members of a user group (for ``CRISISBOT_ADMINS``)."""

        def look_up() -> set[str]:
            try:
                return set(self._call("usergroups.users.list", usergroup=group).get("users", []))
            except SlackFailure as failure:
                log.warning("admins: cannot read user group %s: %s", group, failure.error)
                return set()

        return self._cache.get(("group", group), look_up)

    def create_channel(
        self, *, name: str, first: int = 1, last: int = MAX_NAME_ATTEMPTS
    ) -> tuple[str, str]:
        for attempt in range(first, last + 1):
            candidate = with_suffix(name, attempt)
            try:
                data = self._call("conversations.create", name=candidate, is_private=False)
            except SlackFailure as failure:
                if failure.error == "name_taken" and attempt < last:
                    continue
                raise
            channel = data["channel"]
            return str(channel["id"]), str(channel["name"])
        raise SlackFailure("conversations.create", "name_taken")

    def set_topic(self, *, channel: str, topic: str) -> None:
        self._call("conversations.setTopic", channel=channel, topic=topic)

    def invite(self, *, channel: str, users: Sequence[str]) -> list[str]:
        wanted = [
            u
            for u in dict.fromkeys(users)
            if u and u != self.bot_user_id and self._teammate(u, "invite into " + channel)
        ]
        if not wanted:
            return []
        try:
            self._call("conversations.invite", channel=channel, users=",".join(wanted))
        except SlackFailure as failure:
            if failure.error not in PER_USER_INVITE_ERRORS:
                raise
            if len(wanted) == 1:
                if failure.error == "already_in_channel":
                    return []
                log.warning("could not invite %s to %s: %s", wanted[0], channel, failure.error)
                return wanted
            # Slack invites nobody when one user fails; one bad id must not keep the rest out.
            return [u for user in wanted for u in self.invite(channel=channel, users=[user])]
        return []

    def post(
        self,
        *,
        channel: str,
        text: str,
        blocks: Blocks | None = None,
        thread_ts: str | None = None,
        key: str | None = None,
    ) -> str:
        if channel.startswith(("U", "W")) and not self._teammate(channel, "send a DM to"):
            return ""
        kwargs: dict[str, Any] = {"channel": channel, "text": text, "blocks": blocks}
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        if key:
            kwargs["metadata"] = {"event_type": METADATA_EVENT, "event_payload": {"key": key}}
        try:
            data = self._post_message(key, **kwargs)
        except SlackFailure as failure:
            # A public channel the bot has not joined yet (the escalation channel, say).
            if failure.error != "not_in_channel" or not channel.startswith("C"):
                raise
            self._call("conversations.join", channel=channel)
            data = self._post_message(key, **kwargs)
        return str(data["ts"])

    def _post_message(self, key: str | None, **kwargs: Any) -> dict[str, Any]:
        """``chat.postMessage``, sent once: a 5xx or a lost connection may come after Slack
        posted it, so a post with a metadata key is looked up by its key before it is sent
        again (for up to ``CRISISBOT_SLACK_RETRY_FOR``, backing off); one without a key is
        retried as any call."""
        handler = self._retry
        if not key or handler is None:
            return self._call("chat.postMessage", **kwargs)
        channel = str(kwargs["channel"])
        started = self._clock()
        attempt = 0
        while True:
            try:
                with looking_before_resending():
                    return self._call("chat.postMessage", **kwargs)
            except SlackFailure as failure:
                if not failure.transient:
                    raise
                lost = failure
            found = self._find_keyed(channel=channel, key=key, since=None)
            if found:
                log.info("%s was posted before its answer was lost; not sent again", key)
                return {"ts": found}
            wait = handler.backoff(attempt)
            waited = self._clock() - started
            if lost.error == "ratelimited" or waited + wait > handler.budget():
                raise SlackFailure(
                    "chat.postMessage", lost.error, transient=True, waited=waited
                ) from None
            handler.time.sleep(wait)
            attempt += 1

    def post_to_customer(
        self, *, channel: str, message: CheckedMessage, key: str | None = None
    ) -> str:
        """The one way into a customer channel: only text the leak guard let through, no
        unfurls, and never joining (a bot not in the channel is told ``not_in_channel``)."""
        if not isinstance(message, CheckedMessage):
            raise TypeError("post_to_customer takes a CheckedMessage from ensure_for_customer")
        extra: dict[str, Any] = {}
        if key:
            extra["metadata"] = {"event_type": METADATA_EVENT, "event_payload": {"key": key}}
        data = self._post_message(
            key,
            channel=channel,
            text=str(message),
            unfurl_links=False,
            unfurl_media=False,
            **extra,
        )
        return str(data["ts"])

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
        """``files_upload_v2``: the upload URL, the bytes, then the file shared in ``channel``
        (joining a public channel the bot is not in, as ``post`` does)."""

        def upload() -> str:
            # The SDK makes two Web API calls (and the POST of the bytes): both are paced.
            self.limiter.acquire("files.getUploadURLExternal", channel=channel)
            self.limiter.acquire("files.completeUploadExternal", channel=channel)
            try:
                try:
                    response = self.client.files_upload_v2(
                        channel=channel,
                        content=content,
                        filename=filename,
                        title=title,
                        alt_txt=alt_txt or None,
                        initial_comment=initial_comment,
                    )
                finally:
                    # The last call's answer (the first counts from when it was let go).
                    self.limiter.finished()
            except SlackApiError as error:
                code = str(error.response.get("error", "unknown_error"))
                raise SlackFailure("files.completeUploadExternal", code) from None
            except (SlackClientError, OSError) as error:
                raise SlackFailure("files_upload_v2", f"upload failed ({error})") from None
            return str((response.get("file") or {}).get("id", ""))

        try:
            return upload()
        except SlackFailure as failure:
            if failure.error != "not_in_channel" or not channel.startswith("C"):
                raise
            self._call("conversations.join", channel=channel)
            return upload()

    def find_file(self, *, channel: str, filename: str, since: datetime) -> str | None:
        data = self._call(
            "conversations.history", channel=channel, oldest=f"{since.timestamp():.6f}", limit=200
        )
        for message in data.get("messages", []):
            if message.get("user") != self.bot_user_id:
                continue
            for file in message.get("files") or []:
                if file.get("name") == filename:
                    return str(file["id"])
        return None

    def _teammate(self, user: str, what: str) -> bool:
        """Whether ``user`` may be let into a crisis: the last line of defence, so that nobody
        from another organisation or a guest is ever invited or DMed about a crisis, whatever
        the caller checked."""
        if self.person(user=user).is_teammate:
            return True
        log.warning("refused to %s %s: not a member of the team", what, user)
        return False

    def update(self, *, channel: str, ts: str, text: str, blocks: Blocks | None = None) -> None:
        """Edit the bot's message; ``channel`` may be a user id for a DM posted to one."""
        if channel.startswith(("U", "W")):
            channel = self._dm_channel(channel)
        self._call("chat.update", channel=channel, ts=ts, text=text, blocks=blocks)

    def _dm_channel(self, user: str) -> str:
        """The id of the bot's DM with ``user`` (it never changes, so asked once)."""

        def look_up() -> str:
            return str(self._call("conversations.open", users=user)["channel"]["id"])

        return self._identity_cache.get(("dm", user), look_up)

    def pin(self, *, channel: str, ts: str) -> None:
        try:
            self._call("pins.add", channel=channel, timestamp=ts)
        except SlackFailure as failure:
            if failure.error != "already_pinned":
                raise

    def dm(
        self, *, user: str, text: str, blocks: Blocks | None = None, key: str | None = None
    ) -> str:
        # Posting to a user id lands in the app's DM with them, with no conversations.open.
        return self.post(channel=user, text=text, blocks=blocks, key=key)

    def find_posted(self, *, channel: str, key: str, since: datetime) -> str | None:
        return self._find_keyed(channel=channel, key=key, since=since)

    def _find_keyed(self, *, channel: str, key: str, since: datetime | None) -> str | None:
        """The ts of the message with ``key`` among the channel's newest 200 (since
        ``since``, if given)."""
        if channel.startswith(("U", "W")):
            opened = self._call("conversations.open", users=channel)
            channel = str(opened["channel"]["id"])
        data = self._call(
            "conversations.history",
            channel=channel,
            oldest=f"{since.timestamp():.6f}" if since is not None else None,
            include_all_metadata=True,
            limit=200,
        )
        for message in data.get("messages", []):
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == METADATA_EVENT and payload.get("key") == key:
                return str(message["ts"])
        return None

    def find_channels(self, *, name: str, since: datetime) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        cursor = None
        for _ in range(50):
            data = self._call(
                "conversations.list",
                types="public_channel",
                exclude_archived=True,
                limit=1000,
                cursor=cursor,
            )
            for channel in data.get("channels", []):
                named = channel.get("name", "")
                ours = channel.get("creator") == self.bot_user_id
                recent = float(channel.get("created", 0)) >= since.timestamp() - 60
                if ours and recent and (named == name or named.startswith(name + "-")):
                    found.append((str(channel["id"]), str(named)))
            cursor = (data.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return found

    def ephemeral(
        self, *, channel: str, user: str, text: str, blocks: Blocks | None = None
    ) -> None:
        self._call("chat.postEphemeral", channel=channel, user=user, text=text, blocks=blocks)

    def fetch_message(self, *, channel: str, ts: str) -> PostedMessage | None:
        data = self._call(
            "conversations.history", channel=channel, latest=ts, oldest=ts, inclusive=True, limit=1
        )
        for message in data.get("messages", []):
            if message.get("ts") == ts:
                return PostedMessage(
                    user=message.get("user"), text=str(message.get("text", "")), ts=ts
                )
        return None

    def open_view(self, *, trigger_id: str, view: dict[str, Any]) -> None:
        self._call("views.open", trigger_id=trigger_id, view=view)

    def publish_home(self, *, user: str, view: dict[str, Any]) -> None:
        self._call("views.publish", user_id=user, view=view)


class Gateways:
    """One ``SlackGateway`` per workspace, each with that workspace's bot token (from the OAuth
    installation store, through ``find_token``), built once and kept: a token of one
    workspace never calls Slack for another."""

    def __init__(
        self,
        *,
        find_token: Callable[[str], str | None],
        base_url: str,
        timeout: int = 10,
        drop_tokens: Callable[[str], None] | None = None,
        limiter_for: Callable[[str], RateLimiter] | None = None,
        retry_for: float = RETRY_FOR,
    ) -> None:
        self._find_token = find_token
        self._drop_tokens = drop_tokens
        self._base_url = base_url
        self._timeout = timeout
        # Slack's limits are per workspace: each workspace's gateway paces its own calls (on
        # PostgreSQL, in the budget every replica shares).
        self._limiter_for = limiter_for or (lambda _team: RateLimiter())
        self._retry_for = retry_for
        self._lock = threading.Lock()
        self._gateways: dict[str, SlackGateway] = {}

    def for_team(self, team_id: str) -> SlackGateway:
        """The gateway for ``team_id``; without an installation its calls fail (not_authed)."""
        with self._lock:
            gateway = self._gateways.get(team_id)
        if gateway is not None:
            return gateway
        token = self._find_token(team_id) or ""
        client = make_client(
            token=token, base_url=self._base_url, timeout=self._timeout, retry_for=self._retry_for
        )
        built = SlackGateway(client, limiter=self._limiter_for(team_id))
        with self._lock:
            if not token:
                return built  # not kept: an install may come any moment
            return self._gateways.setdefault(team_id, built)

    def forget(self, team_id: str) -> None:
        """Drop ``team_id``'s gateway (installed again, or uninstalled): the next call looks
        its token up again."""
        with self._lock:
            self._gateways.pop(team_id, None)

    def revoke(self, team_id: str) -> None:
        """Slack revoked ``team_id``'s tokens (uninstalled): forget its gateway and delete
        the tokens it stored, which no longer work."""
        self.forget(team_id)
        if self._drop_tokens is not None:
            self._drop_tokens(team_id)


class LookupCache:
    """Lookups that expire (a ``cachetools.TTLCache`` under a lock), each computed once even
    when many threads ask at once, so a mass outage asks Slack about one user once."""

    def __init__(
        self, *, seconds: float, maxsize: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._items: cachetools.TTLCache[object, Any] = cachetools.TTLCache(
            maxsize=maxsize, ttl=seconds, timer=clock
        )
        self._lock = threading.Lock()
        self._computing: dict[object, threading.Lock] = {}

    def get(self, key: object, compute: Callable[[], T]) -> T:
        """The cached value, or ``compute()`` once even when many threads ask at once."""
        with self._lock:
            if key in self._items:
                return cast(T, self._items[key])
            key_lock = self._computing.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._items:
                    return cast(T, self._items[key])
            value = compute()
            with self._lock:
                self._items[key] = value
                self._computing.pop(key, None)
            return value


def _drop_none(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if v is not None}
