"""Test-facing reads (snapshots) and human actions on a workspace, mixed into Emulator."""

from __future__ import annotations

import copy
from typing import Any, TypeVar

from sandbox.api_chat import ephemeral_event
from sandbox.api_items import react
from sandbox.apicommon import SlackApiError, require_not_archived
from sandbox.workspace import JSON, Channel, Ephemeral, Message, View, Workspace

T = TypeVar("T")
# Notices Slack adds to history; tests usually care about real messages only.
SYSTEM_SUBTYPES = {
    "channel_join",
    "channel_topic",
    "channel_purpose",
    "channel_archive",
    "tombstone",
}


class WorkspaceHelpers:
    """Queries return deep copies, so tests can keep them while the bot keeps working."""

    workspace: Workspace

    # --- queries (snapshots, safe to keep) -------------------------------------

    def _snapshot(self, value: T) -> T:
        with self.workspace.lock:
            return copy.deepcopy(value)

    def channel_by_name(self, name: str) -> Channel | None:
        """The channel with that name (a leading '#' is fine), or None."""
        return self._snapshot(self.workspace.channel_by_name(name))

    def messages(self, channel_id: str, *, include_system: bool = False) -> list[Message]:
        """All messages in a channel (thread replies too), oldest first; no join/topic notices."""
        with self.workspace.lock:
            msgs = self.workspace.messages.get(channel_id, {}).values()
            return self._snapshot(
                [m for m in msgs if include_system or m.subtype not in SYSTEM_SUBTYPES]
            )

    def thread(self, channel_id: str, ts: str) -> list[Message]:
        """The replies in the thread under `ts`, oldest first."""
        return self._snapshot(self.workspace.replies(channel_id, ts))

    def pins(self, channel_id: str) -> list[Message]:
        """The pinned messages of a channel, in pin order."""
        ws = self.workspace
        with ws.lock:
            pins = ws.pins.get(channel_id, {})
            return self._snapshot([ws.messages[channel_id][ts] for ts in pins])

    def dm_channel(self, user_id: str) -> str | None:
        """The id of the bot's DM with the user, if it was ever opened."""
        with self.workspace.lock:
            return self.workspace.ims.get(user_id)

    def dm_messages(self, user_id: str) -> list[Message]:
        """Messages the bot posted in its DM with the user, oldest first."""
        channel_id = self.dm_channel(user_id)
        if channel_id is None:
            return []
        bot = self.workspace.bot_user_id
        return [m for m in self.messages(channel_id) if m.user == bot]

    def ephemerals(self, user_id: str, channel_id: str | None = None) -> list[Ephemeral]:
        """Ephemeral messages shown to the user (optionally in one channel), oldest first."""
        with self.workspace.lock:
            return self._snapshot(
                [
                    e
                    for e in self.workspace.ephemerals
                    if e.user == user_id and channel_id in (None, e.channel)
                ]
            )

    def open_views(self, user_id: str | None) -> list[View]:
        """The user's modal stack, root first."""
        ws = self.workspace
        with ws.lock:
            return self._snapshot([ws.views[v] for v in ws.view_stacks.get(user_id, [])])

    def home_view(self, user_id: str) -> View | None:
        """The user's published Home tab, if any."""
        ws = self.workspace
        with ws.lock:
            return self._snapshot(ws.views.get(ws.home_views.get(user_id, "")))

    # --- user actions (state changes a human would cause) ----------------------

    def post_as_user(
        self, user_id: str, channel_id: str, text: str, *, thread_ts: str | None = None
    ) -> Message:
        """Post as a human; `channel_id` may be the bot's user id to write in the user's DM."""
        ws = self.workspace
        with ws.mutate():
            user = ws.users.get(user_id)
            if user is None:
                raise SlackApiError("user_not_found")
            if channel_id in ws.users:
                channel_id = ws.open_im(user_id)[0].id
            ch = ws.channels.get(channel_id)
            if ch is None:
                raise SlackApiError("channel_not_found")
            if user_id not in ch.members:
                raise SlackApiError("not_in_channel")
            require_not_archived(ch)
            msg = Message(
                ts=ws.next_ts(),
                channel=ch.id,
                user=user_id,
                text=text,
                thread_ts=thread_ts,
                team=user.team_id,
            )
            return copy.deepcopy(ws.add_message(msg))

    def add_reaction(self, user_id: str, channel_id: str, ts: str, name: str) -> None:
        """React as a human (raises SlackApiError like reactions.add would)."""
        ws = self.workspace
        with ws.mutate():
            if user_id not in ws.users:
                raise SlackApiError("user_not_found")
            msg = ws.find_message(channel_id, ts)
            if msg is None:
                raise SlackApiError("message_not_found")
            react(ws, user_id, msg, name.strip(":"), add=True)

    def remove_reaction(self, user_id: str, channel_id: str, ts: str, name: str) -> None:
        """Remove a human's reaction."""
        ws = self.workspace
        with ws.mutate():
            msg = ws.find_message(channel_id, ts)
            if msg is None:
                raise SlackApiError("message_not_found")
            react(ws, user_id, msg, name.strip(":"), add=False)

    def show_ephemeral(
        self, user_id: str, channel_id: str, text: str, *, sender: str | None = None, **extra: Any
    ) -> Ephemeral:
        """Show `user_id` a message only they see (Slack's own notices and command acks)."""
        ws = self.workspace
        with ws.mutate() as emit:
            bot = ws.bot
            eph = Ephemeral(
                ts=ws.next_ts(),
                channel=channel_id,
                user=user_id,
                sender=sender or bot.id,
                text=text,
                blocks=extra.get("blocks"),
                bot_id=bot.bot_id if sender is None else None,
            )
            ws.ephemerals.append(eph)
            emit(ephemeral_event(eph))
            return copy.deepcopy(eph)

    def replace_view(self, user_id: str, view_id: str, view: JSON) -> None:
        """Replace a modal in the user's stack (a `response_action: update` answer)."""
        ws = self.workspace
        with ws.mutate() as emit:
            stored = ws.views.get(view_id)
            if stored is None or stored.user != user_id:
                raise SlackApiError("not_found")
            stored.view = dict(view)
            emit({"type": "view_updated", "user": user_id, "view": stored.to_api()})

    def close_views(self, user_id: str, view_id: str | None = None) -> list[View]:
        """Close the user's modal `view_id` and those above it, or the whole stack; returns them."""
        ws = self.workspace
        with ws.mutate() as emit:
            stack = ws.view_stacks.get(user_id, [])
            cut = stack.index(view_id) if view_id in stack else 0
            closed = [ws.views[v] for v in stack[cut:]]
            del stack[cut:]
            for view in closed:
                emit({"type": "view_closed", "user": user_id, "view": view.to_api()})
            return copy.deepcopy(closed)
