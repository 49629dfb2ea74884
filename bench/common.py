"""What every benchmark shares: results, statistics, signing, the bot as a child process."""

from __future__ import annotations

import http.client
import json
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlencode

from sandbox import Emulator
from sandbox.payloads import slash_command_form
from sandbox.signing import sign as slack_signature
from sandbox.workspace import User

ROOT = Path(__file__).resolve().parent.parent
SIGNING_SECRET = "bench-signing-secret"
TOKEN = "xoxb-sandbox"


@dataclass
class Row:
    """One figure: what, how much, the target and whether it is met (None: no target)."""

    bench: str
    metric: str
    value: str
    target: str = ""
    met: bool | None = None


@dataclass
class Result:
    """What one benchmark reports."""

    name: str
    command: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, metric: str, value: str, target: str = "", met: bool | None = None) -> None:
        self.rows.append(Row(self.name, metric, value, target, met))


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile; nan for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def command_body(emulator: Emulator, text: str, *, user: str, channel: str) -> str:
    """A ``/crisis`` slash-command form as Slack sends it, with a live response_url."""
    return urlencode(slash_command_form(emulator, user_id=user, channel_id=channel, text=text))


def post_signed(port: int, body: str, *, timeout: float = 10.0) -> tuple[int, float]:
    """POST a signed form to the bot on loopback over a new connection, as Slack does.

    Returns (HTTP status, seconds); status 0 is a timeout or a connection failure.
    """
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        **slack_signature(body, SIGNING_SECRET),
    }
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("POST", "/slack/events", body=body.encode(), headers=headers)
        response = connection.getresponse()
        response.read()
        status = response.status
    except OSError:
        status = 0
    finally:
        connection.close()
    return status, time.perf_counter() - started


def add_users(emulator: Emulator, count: int, prefix: str = "U0B") -> list[str]:
    """Add ``count`` people to the emulated workspace (owners for many crises)."""
    ids = [f"{prefix}{n:06d}" for n in range(count)]
    for uid in ids:
        emulator.workspace.add_user(
            User(id=uid, name=uid.lower(), real_name=f"Owner {uid}", team_id="T0CRISIS")
        )
    return ids


class Child:
    """``python -m bench.botproc`` in its own process; its first stdout line is JSON."""

    def __init__(self, args: list[str]) -> None:
        # A file, not a pipe: a chatty child must never block on a full pipe.
        self.stderr = tempfile.NamedTemporaryFile(  # noqa: SIM115 (lives as long as the child)
            prefix="crisisbot-bench-", suffix=".log"
        )
        self.started = time.time()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.botproc", *args],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
        )

    def read_json(self, timeout: float = 120.0) -> dict[str, Any]:
        """The next JSON line the child prints (it prints nothing else on stdout)."""
        stdout: IO[str] | None = self.process.stdout
        assert stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = stdout.readline()
            if line.strip():
                data: dict[str, Any] = json.loads(line)
                return data
            if self.process.poll() is not None:
                break
        raise RuntimeError(f"bench child gave no result: {self.log()[-2000:]}")

    def log(self) -> str:
        """What the child wrote on stderr."""
        return Path(self.stderr.name).read_text(errors="replace")

    def stop(self) -> None:
        """Close stdin (the child's signal to exit), then make sure it is gone."""
        if self.process.poll() is None:
            try:
                assert self.process.stdin is not None
                self.process.stdin.close()
                self.process.wait(timeout=5)
            except (subprocess.TimeoutExpired, OSError):
                self.process.kill()
                self.process.wait()


def fmt_s(seconds: float) -> str:
    """Seconds, in ms below one second."""
    if math.isnan(seconds):
        return "n/a"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"
