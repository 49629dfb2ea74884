"""What Slack posts to an app's request URL: slash command forms, interactivity payloads and
event envelopes, built from the emulated workspace as Slack builds them."""

from __future__ import annotations

from sandbox.emulator import Emulator
from sandbox.workspace import JSON, Channel

APP_ID = "A0SANDBOX"
VERIFICATION_TOKEN = "sandbox-verification-token"


def slash_command_form(
    emulator: Emulator,
    *,
    user_id: str,
    channel_id: str,
    text: str,
    command: str = "/crisis",
    app_id: str = "A0CRISIS",
) -> dict[str, str]:
    """The form Slack posts for a slash command, with a live response_url and trigger_id."""
    ws = emulator.workspace_of(user_id)
    with ws.lock:
        user, channel = ws.users[user_id], ws.channels[channel_id]
        return {
            "token": VERIFICATION_TOKEN,
            "team_id": user.team_id,
            "team_domain": ws.teams[user.team_id].domain,
            "channel_id": channel.id,
            "channel_name": channel_name(channel),
            "user_id": user.id,
            "user_name": user.name,
            "command": command,
            "text": text,
            "api_app_id": app_id,
            "is_enterprise_install": "false",
            "response_url": emulator.new_response_url(channel.id, user.id),
            "trigger_id": emulator.issue_trigger(user.id),
        }


def interaction(emulator: Emulator, kind: str, user_id: str, *, app_id: str = APP_ID) -> JSON:
    """The common part of an interactivity payload (block_actions, view_submission…)."""
    ws = emulator.workspace_of(user_id)
    user = ws.users[user_id]
    return {
        "type": kind,
        "team": {"id": ws.team.id, "domain": ws.team.domain},
        "user": {
            "id": user.id,
            "username": user.name,
            "name": user.name,
            "team_id": user.team_id,
        },
        "api_app_id": app_id,
        "token": VERIFICATION_TOKEN,
        "trigger_id": emulator.issue_trigger(user_id),
        "is_enterprise_install": False,
        "enterprise": None,
    }


def block_suggestion(
    emulator: Emulator,
    user_id: str,
    view_id: str,
    *,
    block_id: str,
    action_id: str,
    value: str,
    app_id: str = APP_ID,
) -> JSON:
    """What Slack posts to the options load URL as someone types in a modal's
    ``external_select``: what they typed so far, and the view it is in (no trigger_id)."""
    ws = emulator.workspace_of(user_id)
    with ws.lock:
        payload = interaction(emulator, "block_suggestion", user_id, app_id=app_id)
        payload.pop("trigger_id")
        payload.update(
            container={"type": "view", "view_id": view_id},
            action_id=action_id,
            block_id=block_id,
            value=value,
            view=ws.views[view_id].to_api(),
        )
        return payload


def event_envelope(emulator: Emulator, event: JSON, *, event_id: str, app_id: str = APP_ID) -> JSON:
    """An Events API ``event_callback`` envelope around ``event``."""
    ws = emulator.workspace
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": ws.team.id,
        "context_team_id": ws.team.id,
        "api_app_id": app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(ws.now()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": ws.team.id,
                "user_id": ws.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }


def channel_name(channel: Channel) -> str:
    """The channel_name Slack sends: its name, or what Slack says for DMs and groups."""
    if channel.is_im:
        return "directmessage"
    if channel.is_private and not channel.is_mpim:
        return "privategroup"
    return channel.name
