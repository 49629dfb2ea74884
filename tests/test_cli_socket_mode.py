"""``crisisbot run`` with ``SLACK_APP_TOKEN``: a real process connects to the emulator over
Socket Mode (no HTTP port, no signing secret), serves commands, survives a refresh, stops."""

import os
import signal
import time
from pathlib import Path

import pytest

from sandbox import Emulator
from sandbox.emulator import APP_TOKEN
from sandbox.inbound import Inbound
from tests.conftest import BOT_TOKEN
from tests.test_cli import crisisbot


@pytest.fixture
def env(tmp_path: Path, emulator: Emulator) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CRISISBOT_"))}
    return clean | {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_URL": emulator.api_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }


def test_run_in_socket_mode_serves_commands_and_survives_a_refresh(
    env: dict[str, str], emulator: Emulator, tmp_path: Path
) -> None:
    process = crisisbot("run", env=env, cwd=tmp_path)
    socket = emulator.socket_mode
    inbound = Inbound(emulator, "", "", ack_timeout=10, socket_mode=socket)
    try:
        assert socket.wait_connected(timeout=60), process.poll()
        assert inbound.command("U0ANA", "C0GENERAL", "new Acme: dashboards empty sev1").ok
        channel = emulator.wait_for(
            lambda: emulator.channel_by_name(
                "crisis-" + time.strftime("%Y%m%d", time.gmtime()) + "-acme"
            ),
            timeout=10,
        )
        emulator.wait_for(lambda: emulator.pins(channel.id), timeout=10)
        # Slack refreshes the connection: the bot moves to a new one and keeps serving.
        assert socket.disconnect("refresh_requested") == 1
        assert socket.wait_connected(timeout=30, opened=2)
        emulator.wait_for(lambda: socket.connections == 1, timeout=30)
        assert inbound.command("U0ANA", "C0GENERAL", "help").ok
        assert any("/crisis new" in e.text for e in emulator.ephemerals("U0ANA"))
    finally:
        inbound.close()
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert all(a.ok and a.envelope_id for a in inbound.attempts)
    assert [c.ok for c in emulator.calls_to("apps.connections.open")] == [True, True]
    emulator.wait_for(lambda: socket.connections == 0, timeout=10)
    assert APP_TOKEN not in err


def test_an_app_token_slack_refuses_stops_the_start_with_one_line(
    env: dict[str, str], tmp_path: Path
) -> None:
    unknown = "xapp-1-A0OTHER-1-revoked"
    process = crisisbot("run", env=env | {"SLACK_APP_TOKEN": unknown}, cwd=tmp_path)
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 2
    line = err.strip().splitlines()[-1]
    assert line == "crisisbot: SLACK_APP_TOKEN: Slack did not accept it (invalid_auth)"
    assert unknown not in err
