"""The emulator's OAuth: authorize hands back a code for the chosen workspace, oauth.v2.access
exchanges it for that workspace's bot token, and each token speaks only for its workspace."""

from __future__ import annotations

import http.client
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox import Emulator
from sandbox.seed import SECOND_TEAM_ID, SECOND_TOKEN, TEAM_ID, second_workspace

REDIRECT = "https://bot.example.com/slack/oauth_redirect"


@pytest.fixture
def slack(emulator: Emulator) -> Emulator:
    emulator.add_workspace(second_workspace(), token=SECOND_TOKEN)
    emulator.configure_oauth(client_id="1.2", client_secret="shh", redirect_url=REDIRECT)
    return emulator


def authorize(emulator: Emulator, **args: str) -> tuple[int, str]:
    parts = urlsplit(emulator.url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=5)
    connection.request("GET", "/oauth/v2/authorize?" + urlencode(args))
    response = connection.getresponse()
    response.read()
    location = response.getheader("Location") or ""
    connection.close()
    return response.status, location


def code_for(emulator: Emulator, team: str) -> str:
    status, location = authorize(
        emulator, client_id="1.2", scope="chat:write", state="s1", team=team
    )
    assert status == 302 and location.startswith(REDIRECT + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["s1"]
    return query["code"][0]


def test_a_code_is_exchanged_once_for_that_workspaces_bot_token(slack: Emulator) -> None:
    client = WebClient(base_url=slack.api_url)
    code = code_for(slack, SECOND_TEAM_ID)
    answer = client.oauth_v2_access(client_id="1.2", client_secret="shh", code=code)
    assert answer["access_token"] == SECOND_TOKEN
    assert answer["token_type"] == "bot"
    assert answer["team"] == {"id": SECOND_TEAM_ID, "name": "Initech Support"}
    assert answer["bot_user_id"] == "U1BOT"
    with pytest.raises(SlackApiError) as again:
        client.oauth_v2_access(client_id="1.2", client_secret="shh", code=code)
    assert again.value.response["error"] == "invalid_code"
    first = client.oauth_v2_access(
        client_id="1.2", client_secret="shh", code=code_for(slack, TEAM_ID)
    )
    assert first["access_token"] == slack.token


def test_a_wrong_secret_or_client_is_refused(slack: Emulator) -> None:
    client = WebClient(base_url=slack.api_url)
    code = code_for(slack, TEAM_ID)
    with pytest.raises(SlackApiError) as secret:
        client.oauth_v2_access(client_id="1.2", client_secret="nope", code=code)
    assert secret.value.response["error"] == "bad_client_secret"
    with pytest.raises(SlackApiError) as client_id:
        client.oauth_v2_access(client_id="9.9", client_secret="shh", code=code)
    assert client_id.value.response["error"] == "invalid_client_id"
    assert authorize(slack, client_id="9.9", state="s")[0] == 400


def test_each_token_speaks_for_its_own_workspace(slack: Emulator) -> None:
    theirs = WebClient(token=SECOND_TOKEN, base_url=slack.api_url)
    assert theirs.auth_test()["team_id"] == SECOND_TEAM_ID
    with pytest.raises(SlackApiError) as refused:
        theirs.chat_postMessage(channel="C0GENERAL", text="not yours")
    assert refused.value.response["error"] == "channel_not_found"
    theirs.chat_postMessage(channel="C1GENERAL", text="ours")
    assert [m.text for m in slack.workspaces[SECOND_TEAM_ID].messages["C1GENERAL"].values()] == [
        "ours"
    ]
    assert not slack.workspace.messages.get("C1GENERAL")
    slack.revoke(SECOND_TEAM_ID)
    with pytest.raises(SlackApiError) as revoked:
        theirs.auth_test()
    assert revoked.value.response["error"] == "invalid_auth"
