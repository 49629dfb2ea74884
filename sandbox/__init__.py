"""A local, stateful emulator of Slack's Web API for tests and a local Slack look-alike."""

from sandbox.apicommon import Caller, SlackApiError
from sandbox.emulator import Call, Emulator, Reply, start_emulator
from sandbox.seed import default_workspace
from sandbox.workspace import Channel, Ephemeral, Message, Team, User, View, Workspace

__all__ = [
    "Call",
    "Caller",
    "Channel",
    "Emulator",
    "Ephemeral",
    "Message",
    "Reply",
    "SlackApiError",
    "Team",
    "User",
    "View",
    "Workspace",
    "default_workspace",
    "start_emulator",
]
