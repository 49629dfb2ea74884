"""``crisisbot run`` as a distributed app: a real process installed in two workspaces through
OAuth (the emulator plays Slack's authorize page), each speaking with its own token."""

from __future__ import annotations

import html
import re
import signal
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from sandbox import Emulator
from sandbox.seed import SECOND_TEAM_ID, SECOND_TOKEN, TEAM_ID, second_workspace
from tests.handlers.test_workspaces import get
from tests.harness import sign
from tests.test_cli import crisisbot, env  # noqa: F401  (the env fixture)

CLIENT_SECRET = "client-secret-of-the-app"
STATE_SECRET = "state-secret-of-the-app"


def install(base: str, emulator: Emulator, team: str) -> None:
    status, headers, page = get(f"{base}/slack/install")
    assert status == 200, page
    cookie = headers["set-cookie"].split(";")[0]
    link = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page)
    assert link, page
    # The person installing is sent to Slack: here, the emulator plays it.
    query = urlsplit(html.unescape(link.group(1))).query
    status, headers, _ = get(f"{emulator.url}/oauth/v2/authorize?{query}&team={team}")
    assert status == 302
    status, _, done = get(headers["location"], {"Cookie": cookie})
    assert status == 200, done


def command(base: str, emulator: Emulator, *, user: str, channel: str, team: str) -> None:
    body = urlencode(
        {
            "command": "/crisis",
            "text": "new Acme: dashboards empty sev1",
            "user_id": user,
            "channel_id": channel,
            "team_id": team,
            "response_url": emulator.new_response_url(channel, user),
            "trigger_id": emulator.issue_trigger(user),
        }
    )
    request = urllib.request.Request(
        f"{base}/slack/events",
        data=body.encode(),
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", **sign(body)},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


def test_run_installs_in_two_workspaces_and_serves_each_with_its_token(
    env: dict[str, str],  # noqa: F811
    emulator: Emulator,
    tmp_path: Path,
) -> None:
    emulator.add_workspace(second_workspace(), token=SECOND_TOKEN)
    base = f"http://127.0.0.1:{env['PORT']}"
    emulator.configure_oauth(
        client_id="1.2", client_secret=CLIENT_SECRET, redirect_url=f"{base}/slack/oauth_redirect"
    )
    oauth = {
        "SLACK_BOT_TOKEN": "",
        "SLACK_CLIENT_ID": "1.2",
        "SLACK_CLIENT_SECRET": CLIENT_SECRET,
        "SLACK_STATE_SECRET": STATE_SECRET,
    }
    process = crisisbot("run", env=env | oauth, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=1) as response:
                    assert response.read() == b"ok"
                    break
            except OSError:
                assert process.poll() is None, process.communicate()[1]
                assert time.monotonic() < deadline, "crisisbot did not start in 30 s"
                time.sleep(0.1)
        install(base, emulator, TEAM_ID)
        install(base, emulator, SECOND_TEAM_ID)
        command(base, emulator, user="U0ANA", channel="C0GENERAL", team=TEAM_ID)
        command(base, emulator, user="U1IVY", channel="C1GENERAL", team=SECOND_TEAM_ID)
        name = "crisis-" + time.strftime("%Y%m%d", time.gmtime()) + "-acme"
        for team in (TEAM_ID, SECOND_TEAM_ID):
            workspace = emulator.workspaces[team]
            found = emulator.wait_for(lambda w=workspace: w.channel_by_name(name), timeout=10)
            emulator.wait_for(lambda w=workspace, c=found: w.pins.get(c.id), timeout=10)
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "installs at" in err
    assert CLIENT_SECRET not in err and STATE_SECRET not in err
    assert SECOND_TOKEN not in err


def test_db_adopt_gives_the_single_workspace_data_to_a_workspace(
    env: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    missing = crisisbot("db", "adopt", env=env, cwd=tmp_path)
    _out, err = missing.communicate(timeout=60)
    assert missing.returncode == 2
    assert err.strip() == "crisisbot: db adopt: name the workspace, --team T0123ABCD"
    process = crisisbot("db", "adopt", "--team", "T0CRISIS", env=env, cwd=tmp_path)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert out.strip() == "workspace T0CRISIS adopted nothing (no single-workspace rows)"
