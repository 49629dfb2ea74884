"""Installed in many workspaces through OAuth: each workspace's crises, accounts, reminders and
messages are its own, in Slack and in the database."""

from __future__ import annotations

import html
import http.client
import json
import re
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from bot.db.models import Base, Crisis, InWorkspace, Workspace
from bot.db.session import SessionFactory
from bot.deps import Deps
from bot.slack_gateway import SlackGateway, make_client
from crisisbot import oauth
from crisisbot.app import build_app
from crisisbot.http import make_server
from sandbox import Emulator
from sandbox.seed import SECOND_TEAM_ID, SECOND_TOKEN, TEAM_ID, second_workspace
from scheduler.senders import Senders
from tests.conftest import Clock, make_settings
from tests.harness import Answer, Bot, InlineExecutor, sign

BOTH_DATABASES = 1
CLIENT_ID = "1111.2222"
CLIENT_SECRET = "client-secret"
STATE_SECRET = "state-secret-long-and-random"


class OAuthBot(Bot):
    """crisisbot as a distributed app: no bot token of its own, installed through OAuth."""

    def __init__(
        self, *, session_factory: SessionFactory, clock: Clock, emulator: Emulator
    ) -> None:
        self.emulator = emulator
        self.clock = clock
        settings = make_settings(
            slack_bot_token="",
            slack_client_id=CLIENT_ID,
            slack_client_secret=CLIENT_SECRET,
            slack_state_secret=STATE_SECRET,
            slack_api_url=emulator.api_url,
        )
        engine = session_factory.kw["bind"]
        self.store = oauth.installation_store(settings, engine)
        gateways = oauth.gateways(settings, self.store)
        client = make_client(token=None, base_url=emulator.api_url, timeout=5)
        self.deps = Deps(
            settings=settings,
            session_factory=session_factory,
            slack=SlackGateway(client),
            clock=clock,
            workers=InlineExecutor(),
            gateways=gateways,
        )
        flow = oauth.oauth_settings(
            settings,
            engine=engine,
            store=self.store,
            gateways=gateways,
            session_factory=session_factory,
            clock=clock,
            authorization_url=f"{emulator.url}/oauth/v2/authorize",
        )
        self.app = build_app(
            self.deps, client=client, listener_executor=InlineExecutor(), oauth_settings=flow
        )
        self.senders = Senders.inline(self.deps)
        self.server = make_server(
            self.app,
            host="127.0.0.1",
            port=0,
            signing_secret=settings.slack_signing_secret.get_secret_value(),
        )
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url = f"{self.base}/slack/events"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        self._event_seq = 0
        emulator.configure_oauth(
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            redirect_url=f"{self.base}/slack/oauth_redirect",
        )

    def team_event(self, team: str, event: dict[str, Any]) -> Answer:
        """An Events API envelope from workspace ``team``."""
        self._event_seq += 1
        body = json.dumps(
            {
                "token": "legacy",
                "team_id": team,
                "api_app_id": "A0CRISIS",
                "type": "event_callback",
                "event_id": f"EvT{self._event_seq:08d}",
                "event_time": 1700000000,
                "authorizations": [{"team_id": team, "user_id": "U0BOT", "is_bot": True}],
                "event": event,
            }
        )
        return self.post(body, "application/json", sign(body))


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    """A browser's GET, redirects not followed."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=10)
    connection.request(
        "GET", parts.path + ("?" + parts.query if parts.query else ""), headers=headers or {}
    )
    response = connection.getresponse()
    body = response.read().decode()
    found = {name.lower(): value for name, value in response.getheaders()}
    connection.close()
    return response.status, found, body


def install(bot: OAuthBot, team: str) -> str:
    """Someone from ``team`` clicks Add to Slack, allows, and comes back: the success page."""
    status, headers, page = get(f"{bot.base}/slack/install")
    assert status == 200, page
    cookie = headers["set-cookie"].split(";")[0]
    link = re.search(r'href="([^"]+oauth/v2/authorize[^"]*)"', page)
    assert link, page
    authorize = html.unescape(link.group(1))
    assert authorize.startswith(f"{bot.emulator.url}/oauth/v2/authorize?")
    status, headers, _ = get(f"{authorize}&team={team}")
    assert status == 302
    assert headers["location"].startswith(f"{bot.base}/slack/oauth_redirect?code=")
    status, _, done = get(headers["location"], {"Cookie": cookie})
    assert status == 200, done
    return done


@pytest.fixture
def two(session_factory: SessionFactory, clock: Clock, emulator: Emulator) -> Iterator[OAuthBot]:
    second = second_workspace()
    second.clock = emulator.workspace.clock
    emulator.add_workspace(second, token=SECOND_TOKEN)
    bot = OAuthBot(session_factory=session_factory, clock=clock, emulator=emulator)
    install(bot, TEAM_ID)
    install(bot, SECOND_TEAM_ID)
    yield bot
    bot.close()


def crisis_of(bot: Bot, team: str) -> Crisis:
    with bot.deps.session_factory() as session:
        return session.scalars(select(Crisis).where(Crisis.team_id == team)).one()


def texts(emulator: Emulator, team: str, channel: str) -> str:
    workspace = emulator.workspaces[team]
    with workspace.lock:
        return "\n".join(
            message.text + json.dumps(message.blocks)
            for message in workspace.messages.get(channel, {}).values()
        )


def test_an_install_stores_each_workspaces_token(two: OAuthBot, emulator: Emulator) -> None:
    for team, token in ((TEAM_ID, emulator.token), (SECOND_TEAM_ID, SECOND_TOKEN)):
        bot = two.store.find_bot(enterprise_id=None, team_id=team)
        assert bot is not None and bot.bot_token == token
    with two.deps.session_factory() as session:
        teams = {w.team_id: w.uninstalled_at for w in session.scalars(select(Workspace))}
    assert teams == {TEAM_ID: None, SECOND_TEAM_ID: None}


def test_a_crisis_in_each_workspace_with_the_same_customer_never_crosses(
    two: OAuthBot, emulator: Emulator, clock: Clock
) -> None:
    assert two.command("new Acme Corp: dashboards empty sev1").status == 200
    assert (
        two.command("new Acme Corp: invoices wrong sev1", user="U1IVY", channel="C1GENERAL").status
        == 200
    )
    ours, theirs = crisis_of(two, TEAM_ID), crisis_of(two, SECOND_TEAM_ID)
    # Channel names are a workspace's own: the same name in each, no "-2".
    assert ours.channel_name == theirs.channel_name
    assert ours.channel_id in emulator.workspaces[TEAM_ID].channels
    assert theirs.channel_id in emulator.workspaces[SECOND_TEAM_ID].channels
    assert ours.channel_id not in emulator.workspaces[SECOND_TEAM_ID].channels
    assert (ours.owner_id, theirs.owner_id) == ("U0ANA", "U1IVY")
    mine = texts(emulator, TEAM_ID, ours.channel_id or "")
    other = texts(emulator, SECOND_TEAM_ID, theirs.channel_id or "")
    assert "dashboards empty" in mine and "invoices wrong" not in mine
    assert "invoices wrong" in other and "dashboards empty" not in other
    assert "U0ANA" not in other and "U1IVY" not in mine

    # Each workspace's list shows its own crisis only.
    emulator.clear_calls()
    two.command("list", user="U1IVY", channel="C1GENERAL")
    listed = json.dumps([p.body for p in emulator.response_posts if p.user == "U1IVY"])
    assert f"<#{theirs.channel_id}>" in listed
    assert ours.channel_id not in listed

    # So does each workspace's Home tab.
    two.team_event(SECOND_TEAM_ID, {"type": "app_home_opened", "user": "U1IVY", "tab": "home"})
    (home,) = [c for c in emulator.calls_to("views.publish") if c.args.get("user_id") == "U1IVY"]
    shown = json.dumps(home.args)
    assert theirs.channel_id in shown and ours.channel_id not in shown

    # An update in one touches nothing in the other.
    two.command("update all good again", user="U1IVY", channel=theirs.channel_id or "")
    assert "all good again" in texts(emulator, SECOND_TEAM_ID, theirs.channel_id or "")
    assert "all good again" not in texts(emulator, TEAM_ID, ours.channel_id or "")
    # Who each token is was asked once per token, not on every request.
    assert emulator.calls_to("auth.test") == []

    # Reminders go out with each workspace's own token, to its own owner.
    clock.advance(minutes=95)
    two.sweep()
    for team, owner in ((TEAM_ID, "U0ANA"), (SECOND_TEAM_ID, "U1IVY")):
        workspace = emulator.workspaces[team]
        assert owner in workspace.ims, f"no reminder DM to {owner} in {team}"
        assert texts(emulator, team, workspace.ims[owner])

    # Every row belongs to the workspace it was made for.
    with two.deps.session_factory() as session:
        for mapper in Base.registry.mappers:
            cls = mapper.class_
            if not issubclass(cls, InWorkspace):
                continue
            for row in session.scalars(select(cls)):
                assert row.team_id in (TEAM_ID, SECOND_TEAM_ID), (cls.__name__, row.team_id)
                crisis = getattr(row, "crisis", None)
                if crisis is not None:
                    assert row.team_id == crisis.team_id, cls.__name__


def test_an_uninstalled_workspace_gets_no_more_reminders_and_keeps_its_data(
    two: OAuthBot, emulator: Emulator, clock: Clock
) -> None:
    two.command("new Acme Corp: dashboards empty sev1")
    two.command("new Acme Corp: invoices wrong sev1", user="U1IVY", channel="C1GENERAL")
    emulator.revoke(SECOND_TEAM_ID)
    assert two.team_event(SECOND_TEAM_ID, {"type": "app_uninstalled"}).status == 200
    with two.deps.session_factory() as session:
        assert session.get(Workspace, SECOND_TEAM_ID).uninstalled_at is not None  # type: ignore[union-attr]
    # Its revoked token is deleted; the other workspace's stays.
    assert two.store.find_bot(enterprise_id=None, team_id=SECOND_TEAM_ID) is None
    assert two.store.find_bot(enterprise_id=None, team_id=TEAM_ID) is not None
    clock.advance(minutes=95)
    two.sweep()
    assert "U0ANA" in emulator.workspaces[TEAM_ID].ims
    assert "U1IVY" not in emulator.workspaces[SECOND_TEAM_ID].ims
    # Its crisis and its history stay.
    kept = crisis_of(two, SECOND_TEAM_ID)
    assert kept.customer == "Acme Corp" and kept.is_open


def test_a_revoked_bot_token_stops_reminders_and_a_user_token_does_not(
    two: OAuthBot, emulator: Emulator, clock: Clock
) -> None:
    two.command("new Acme Corp: invoices wrong sev1", user="U1IVY", channel="C1GENERAL")
    event = {"type": "tokens_revoked", "tokens": {"oauth": ["U1JON"], "bot": []}}
    two.team_event(SECOND_TEAM_ID, event)
    with two.deps.session_factory() as session:
        assert session.get(Workspace, SECOND_TEAM_ID).uninstalled_at is None  # type: ignore[union-attr]
    event = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["U1BOT"]}}
    two.team_event(SECOND_TEAM_ID, event)
    clock.advance(minutes=95)
    two.sweep()
    assert "U1IVY" not in emulator.workspaces[SECOND_TEAM_ID].ims


def test_a_reinstall_turns_the_reminders_back_on(
    two: OAuthBot, emulator: Emulator, clock: Clock
) -> None:
    two.command("new Acme Corp: invoices wrong sev1", user="U1IVY", channel="C1GENERAL")
    emulator.revoke(SECOND_TEAM_ID)
    two.team_event(SECOND_TEAM_ID, {"type": "app_uninstalled"})
    clock.advance(minutes=95)
    two.sweep()
    assert "U1IVY" not in emulator.workspaces[SECOND_TEAM_ID].ims
    install(two, SECOND_TEAM_ID)
    two.sweep()
    assert "U1IVY" in emulator.workspaces[SECOND_TEAM_ID].ims


def test_a_forged_state_installs_nothing(
    session_factory: SessionFactory, clock: Clock, emulator: Emulator
) -> None:
    bot = OAuthBot(session_factory=session_factory, clock=clock, emulator=emulator)
    try:
        status, headers, page = get(f"{bot.base}/slack/install")
        state = headers["set-cookie"].split(";")[0].split("=", 1)[1]
        # The state slack_sdk's store keeps, without SLACK_STATE_SECRET's signature.
        forged = state.rpartition(".")[0]
        assert forged
        link = re.search(r'href="([^"]+oauth/v2/authorize[^"]*)"', page)
        assert link
        status, headers, _ = get(html.unescape(link.group(1)))
        code = headers["location"].split("code=")[1].split("&")[0]
        status, _, _ = get(
            f"{bot.base}/slack/oauth_redirect?code={code}&state={forged}",
            {"Cookie": f"slack-app-oauth-state={forged}"},
        )
        assert status == 401
        assert bot.store.find_bot(enterprise_id=None, team_id=TEAM_ID) is None
    finally:
        bot.close()
