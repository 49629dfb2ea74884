"""Real ``crisisbot run`` processes for the reliability tests: start, wait, SIGKILL, stop."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import urlencode

from sandbox import Emulator
from tests.harness import sign
from tests.support import BOT_TOKEN, SIGNING_SECRET, event_envelope, reaction_added

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def base_env(emulator: Emulator, database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a bot process: the emulator as Slack, ``settings`` on top."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CRISISBOT_"))}
    return clean | {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": emulator.api_url,
        "DATABASE_URL": database_url,
        "PYTHONPATH": str(ROOT),
        "LOG_LEVEL": "INFO",
        **settings,
    }


@dataclass
class BotProcess:
    """One ``crisisbot run``; its stdout and stderr go to a file (a pipe would fill up)."""

    name: str
    port: int
    popen: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes] = field(repr=False)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_healthy(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.base}/health", timeout=1) as response:
                    if response.read() == b"ok":
                        return
            except OSError:
                pass
            if not self.alive():
                raise RuntimeError(f"{self.name} exited:\n{self.log()[-3000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} not healthy in {timeout} s")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no handler, no cleanup, like a crashed host."""
        if self.alive():
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=10)
        self._log.close()

    def stop(self) -> int:
        """SIGTERM, then SIGKILL if it does not stop in 10 s; returns the exit code."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)
        self._log.close()
        return int(self.popen.returncode)


def start_bot(
    name: str, env: dict[str, str], logdir: Path, *, port: int | None = None
) -> BotProcess:
    """Start ``crisisbot run`` (through the launcher) on a free loopback port."""
    port = port or free_port()
    log_path = logdir / f"{name}.log"
    log = log_path.open("ab")
    popen = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.launcher"],
        env=env | {"PORT": str(port)},
        cwd=logdir,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return BotProcess(name, port, popen, log_path, log)


@contextmanager
def bots() -> Iterator[list[BotProcess]]:
    """A list to put started processes in; every one still running is killed at the end."""
    started: list[BotProcess] = []
    try:
        yield started
    finally:
        for process in started:
            if process.alive():
                process.kill()


def post_signed(url: str, body: str, content_type: str, timeout: float = 5.0) -> int:
    request = urllib.request.Request(
        url, data=body.encode(), method="POST", headers={"Content-Type": content_type, **sign(body)}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return int(response.status)


def slash(
    bot: BotProcess, emulator: Emulator, text: str, *, user: str = "U0ANA", channel: str
) -> int:
    """``/crisis <text>`` as Slack sends it, signed."""
    body = urlencode(
        {
            "command": "/crisis",
            "text": text,
            "user_id": user,
            "user_name": user.lower(),
            "channel_id": channel,
            "team_id": "T0CRISIS",
            "api_app_id": "A0CRISIS",
            "response_url": emulator.new_response_url(channel, user),
            "trigger_id": emulator.issue_trigger(user),
        }
    )
    return post_signed(f"{bot.base}/slack/events", body, "application/x-www-form-urlencoded")


def declare_by_form(
    bot: BotProcess, *, customer: str, experienced: str, owner: str, user: str, channel: str
) -> int:
    """The declare modal submitted (``view_submission``, signed): ``user`` names ``owner``."""
    values = {
        "customer": {"type": "plain_text_input", "value": customer},
        "experienced": {"type": "plain_text_input", "value": experienced},
        "severity": {"type": "static_select", "selected_option": {"value": "sev1"}},
        "owner": {"type": "users_select", "selected_user": owner},
    }
    payload = {
        "type": "view_submission",
        "team": {"id": "T0CRISIS"},
        "user": {"id": user, "team_id": "T0CRISIS"},
        "api_app_id": "A0CRISIS",
        "view": {
            "id": f"V{uuid.uuid4().hex[:10].upper()}",
            "type": "modal",
            "callback_id": "declare_crisis",
            "private_metadata": json.dumps({"origin_channel_id": channel}),
            "state": {"values": {block: {"value": v} for block, v in values.items()}},
        },
    }
    body = urlencode({"payload": json.dumps(payload)})
    return post_signed(f"{bot.base}/slack/events", body, "application/x-www-form-urlencoded")


def reaction_event(bot: BotProcess, *, user: str, channel: str, ts: str, name: str) -> int:
    """A ``reaction_added`` Events API delivery, signed."""
    event = reaction_added(name, user=user, channel=channel, ts=ts)
    body = json.dumps(event_envelope(event, event_id=f"Ev{uuid.uuid4().hex[:12]}"))
    return post_signed(f"{bot.base}/slack/events", body, "application/json")
