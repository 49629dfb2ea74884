"""manifest.yml is a valid Slack manifest and asks for exactly what the code uses."""

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.conftest import SLACK_REFERENCE

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = SLACK_REFERENCE / "manifest.schema.1.0.0.json"


@pytest.fixture(scope="module")
def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_validates_against_slacks_schema(manifest: dict) -> None:
    if not SCHEMA.exists():
        pytest.skip(f"Slack's manifest schema is not at {SCHEMA} (the shared/ folder is absent)")
    jsonschema.validate(manifest, json.loads(SCHEMA.read_text()))


def test_the_socket_mode_variant_the_readme_describes_validates(manifest: dict) -> None:
    """README, Run it, Socket Mode: socket_mode_enabled true and the URLs deleted."""
    if not SCHEMA.exists():
        pytest.skip(f"Slack's manifest schema is not at {SCHEMA} (the shared/ folder is absent)")
    variant = json.loads(json.dumps(manifest))
    settings = variant["settings"]
    settings["socket_mode_enabled"] = True
    del settings["event_subscriptions"]["request_url"]
    del settings["interactivity"]["request_url"]
    del settings["interactivity"]["message_menu_options_url"]
    jsonschema.validate(variant, json.loads(SCHEMA.read_text()))
    readme = (ROOT / "README.md").read_text()
    assert "socket_mode_enabled: true" in readme and "`connections:write`" in readme


def _source() -> str:
    return "\n".join(
        p.read_text()
        for folder in ("bot", "handlers", "scheduler")
        for p in (ROOT / folder).rglob("*.py")
    )


def test_events_match_the_listeners(manifest: dict) -> None:
    listened = set(re.findall(r'app\.event\("([a-z_]+)"\)', _source()))
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == listened


def test_slash_command_is_crisis_with_escaped_mentions(manifest: dict) -> None:
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/crisis"
    # /crisis owner @ben arrives as <@U…|ben> only when escaping is on.
    assert command["should_escape"] is True
    assert re.search(r'app\.command\("/crisis"\)', _source())


def test_only_the_scopes_the_code_needs(manifest: dict) -> None:
    methods = set(
        re.findall(
            r'"((?:chat|conversations|pins|views|auth|users|usergroups|team|files)\.[A-Za-z.]+)"',
            _source(),
        )
    )
    needs = {
        "conversations.create": "channels:manage",
        "conversations.setTopic": "channels:manage",
        "conversations.invite": "channels:manage",
        "conversations.join": "channels:join",
        "conversations.history": "channels:history",
        "chat.postMessage": "chat:write",
        "chat.update": "chat:write",
        "chat.postEphemeral": "chat:write",
        "pins.add": "pins:write",
        "conversations.info": "channels:read",
        "conversations.list": "channels:read",
        "conversations.open": "im:write",
        "users.info": "users:read",
        "users.lookupByEmail": "users:read.email",
        "team.info": "team:read",
        "usergroups.users.list": "usergroups:read",
        # files_upload_v2 (the weekly digest's chart).
        "files.getUploadURLExternal": "files:write",
        "files.completeUploadExternal": "files:write",
    }
    assert set(needs) <= methods, "a method the scopes are derived from is no longer called"
    # Reading a DM's history is im:history; the code reads DMs only to check a reminder went out.
    expected = {needs[m] for m in methods if m in needs} | {
        "commands",
        "reactions:read",
        "im:history",
    }
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == expected
    assert manifest["settings"]["interactivity"]["is_enabled"] is True


def test_an_oauth_install_asks_for_the_manifests_scopes_and_comes_back_to_the_bot(
    manifest: dict,
) -> None:
    from crisisbot.oauth import BOT_SCOPES

    assert sorted(BOT_SCOPES) == sorted(manifest["oauth_config"]["scopes"]["bot"])
    (redirect,) = manifest["oauth_config"]["redirect_urls"]
    events_url = manifest["settings"]["event_subscriptions"]["request_url"]
    assert redirect == events_url.replace("/slack/events", "/slack/oauth_redirect")
