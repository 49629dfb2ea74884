"""``crisisbot`` as an operator runs it: a real process, real HTTP, the emulator as Slack."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import pytest

from sandbox import Emulator
from tests.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.harness import sign


def crisisbot(*args: str, env: dict[str, str], **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "crisisbot.cli", *args],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kwargs,  # type: ignore[call-overload]
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def env(tmp_path: Path, emulator: Emulator) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CRISISBOT_"))}
    return clean | {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": emulator.api_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "PORT": str(free_port()),
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }


def test_a_bad_setting_stops_the_start_with_one_line(env: dict[str, str], tmp_path: Path) -> None:
    process = crisisbot("run", env=env | {"CRISISBOT_NAG_EVERY": "often"}, cwd=tmp_path)
    _out, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert err.strip() == (
        "crisisbot: CRISISBOT_NAG_EVERY: 'often' is not a duration: use a number followed by"
        " s, m, h or d, such as 45s, 30m, 2h or 1d (or 1h30m)"
    )


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (
            {"SLACK_BOT_TOKEN": None},
            "SLACK_BOT_TOKEN: required (xoxb-…, from your app's OAuth page)",
        ),
        (
            {"SLACK_BOT_TOKEN": "xoxp-a-user-token"},
            "SLACK_BOT_TOKEN: not a bot token: use the Bot User OAuth Token (xoxb-…, from your"
            " app's OAuth page)",
        ),
        (
            {"SLACK_SIGNING_SECRET": None},
            "SLACK_SIGNING_SECRET: required in HTTP mode (from Basic Information)",
        ),
        (
            {"SLACK_APP_TOKEN": "xoxb-not-an-app-token"},
            "SLACK_APP_TOKEN: not an app-level token: use one that starts with xapp- (Basic"
            " Information, App-Level Tokens), or leave it unset to serve HTTP",
        ),
    ],
)
def test_run_refuses_missing_or_wrong_slack_credentials_with_one_line(
    env: dict[str, str], tmp_path: Path, change: dict[str, str | None], says: str
) -> None:
    changed = {k: v for k, v in (env | change).items() if v is not None}
    process = crisisbot("run", env=changed, cwd=tmp_path)
    try:
        _out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 2
    assert err.strip() == f"crisisbot: {says}"
    assert not (tmp_path / "bot.db").exists()


def test_db_upgrade_needs_no_slack_credentials(env: dict[str, str], tmp_path: Path) -> None:
    without = {k: v for k, v in env.items() if not k.startswith("SLACK_")}
    process = crisisbot("db", "upgrade", env=without, cwd=tmp_path)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert out.strip() == "database is up to date"
    assert (tmp_path / "bot.db").exists()


def test_run_migrates_serves_slack_and_stops_cleanly(
    env: dict[str, str], emulator: Emulator, tmp_path: Path
) -> None:
    process = crisisbot("run", env=env | {"CRISISBOT_TICK": "1s"}, cwd=tmp_path)
    base = f"http://127.0.0.1:{env['PORT']}"
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
        body = urlencode(
            {
                "command": "/crisis",
                "text": "new Acme: dashboards empty sev1",
                "user_id": "U0ANA",
                "channel_id": "C0GENERAL",
                "team_id": "T0CRISIS",
                "response_url": emulator.new_response_url("C0GENERAL", "U0ANA"),
                "trigger_id": emulator.issue_trigger("U0ANA"),
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
        channel = emulator.wait_for(
            lambda: emulator.channel_by_name(
                "crisis-" + time.strftime("%Y%m%d", time.gmtime()) + "-acme"
            ),
            timeout=10,
        )
        emulator.wait_for(lambda: emulator.pins(channel.id), timeout=10)
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert (tmp_path / "bot.db").exists()
    assert "slack_bot_token=xoxb-…" in err and BOT_TOKEN not in err.replace("xoxb-…", "")
    assert SIGNING_SECRET not in err


def wait_until_serving(process: subprocess.Popen[str], port: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=1) as answer:
                assert answer.read() == b"ready"
                return
        except OSError:
            assert process.poll() is None, "crisisbot stopped before serving"
            assert time.monotonic() < deadline, "crisisbot did not start in 30 s"
            time.sleep(0.1)


def signed_command(emulator: Emulator, text: str) -> bytes:
    body = urlencode(
        {
            "command": "/crisis",
            "text": text,
            "user_id": "U0ANA",
            "channel_id": "C0GENERAL",
            "team_id": "T0CRISIS",
            "response_url": emulator.new_response_url("C0GENERAL", "U0ANA"),
            "trigger_id": emulator.issue_trigger("U0ANA"),
        }
    )
    head = "".join(
        f"{k}: {v}\r\n"
        for k, v in {
            "Host": "bot",
            "Content-Type": "application/x-www-form-urlencoded",
            "Content-Length": str(len(body)),
            "Connection": "close",
            **sign(body),
        }.items()
    )
    return f"POST /slack/events HTTP/1.1\r\n{head}\r\n{body}".encode()


def answer_status(sock: socket.socket) -> int:
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, f"closed without an answer: {data!r}"
        data += chunk
    return int(data.split()[1])


def test_sigterm_answers_what_is_in_flight_finishes_the_slack_work_and_exits(
    env: dict[str, str], emulator: Emulator, tmp_path: Path
) -> None:
    """SIGTERM with a slow request half sent and a declaration's Slack work under way: new
    connections are refused, the slow request is answered, both crises are set up in Slack,
    and the process exits 0 within 20 s."""
    port = env["PORT"]
    with (tmp_path / "stderr.log").open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "crisisbot.cli", "run"],
            env=env,
            cwd=tmp_path,
            text=True,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        wait_until_serving(process, port)
        # Every Web API call takes 0.5 s: a declaration's Slack work takes seconds after its ack.
        emulator.set_latency(0.5)
        slow = socket.create_connection(("127.0.0.1", int(port)), timeout=20)
        request = signed_command(emulator, "new Globex: exports failing sev2")
        slow.sendall(request[: len(request) - 10])
        with socket.create_connection(("127.0.0.1", int(port)), timeout=20) as sock:
            sock.sendall(signed_command(emulator, "new Acme: dashboards empty sev1"))
            assert answer_status(sock) == 200
        process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()

        def refused() -> bool:
            try:
                socket.create_connection(("127.0.0.1", int(port)), timeout=1).close()
            except ConnectionRefusedError:
                return True
            return False

        emulator.wait_for(refused, timeout=10)
        slow.sendall(request[len(request) - 10 :])
        assert answer_status(slow) == 200
        slow.close()
        assert process.wait(timeout=25) == 0
        assert time.monotonic() - signalled < 20
    finally:
        process.kill()
        process.wait()
    log = (tmp_path / "stderr.log").read_text()
    assert "Traceback" not in log, log
    # The Slack work of both declarations was done before the exit.
    day = time.strftime("%Y%m%d", time.gmtime())
    for name in ("acme", "globex"):
        channel = emulator.channel_by_name(f"crisis-{day}-{name}")
        assert channel is not None, name
        assert emulator.pins(channel.id), name


def test_a_token_slack_refuses_stops_the_start_with_one_line(
    env: dict[str, str], tmp_path: Path
) -> None:
    process = crisisbot("run", env=env | {"SLACK_BOT_TOKEN": "xoxb-revoked"}, cwd=tmp_path)
    _out, err = process.communicate(timeout=30)
    assert process.returncode == 2
    line = err.strip().splitlines()[-1]
    assert line.startswith("crisisbot: SLACK_BOT_TOKEN: Slack did not accept it")
    assert "invalid_auth" in line and "xoxb-revoked" not in err
