"""`crisisbot sandbox`: the emulator, the page and the real bot in one process on loopback."""

from __future__ import annotations

import logging
import secrets
import shutil
import signal
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from bot.config import Settings, load_settings
from bot.deps import Clock, Deps, system_clock
from bot.services import accounts
from crisisbot import socket_mode
from crisisbot.http import EVENTS_PATH, SlackServer, make_server
from crisisbot.runtime import Runtime, build_runtime, schema_readiness
from sandbox.emulator import APP_TOKEN, Emulator
from sandbox.inbound import ACK_TIMEOUT, RETRY_DELAYS, Inbound
from sandbox.manifest import load_manifest
from sandbox.page import PageApp

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

log = logging.getLogger(__name__)
# The sandbox's customer accounts; also the example file the README shows.
ACCOUNTS_CSV = Path(__file__).resolve().parents[1] / "sandbox" / "accounts.csv"

MANIFEST = Path(__file__).resolve().parents[1] / "manifest.yml"
ANNOUNCE_CHANNEL = "C0CRISES"
ESCALATION_CHANNEL = "C0ESCAL"
# The weekly digest (and its chart) goes here; the first one at once, on start.
REPORT_CHANNEL = "C0WEEKLY"
BOT_TOKEN = "xoxb-sandbox"
# --drill: a whole lifecycle, nags and escalation included, fits in a few minutes.
DRILL: dict[str, str] = {
    "cadence_sev1": "2m",
    "cadence_sev2": "4m",
    "cadence_sev3": "8m",
    "cadence_sev4": "15m",
    "reminder_lead": "30s",
    "nag_every": "1m",
    "escalate_after": "3m",
    "follow_up": "5m",
    "snooze": "1m",
    "tick": "2s",
}


class Sandbox:
    """Emulator + page + bot + SQLite, all on 127.0.0.1; start() then stop(). The bot serves
    HTTP, or with `socket_mode` connects to the emulator over Socket Mode as `crisisbot run`
    does with ``SLACK_APP_TOKEN`` set."""

    def __init__(
        self,
        *,
        port: int = 0,
        drill: bool = False,
        clock: Clock = system_clock,
        database_url: str | None = None,
        run_scheduler: bool = True,
        ack_timeout: float = ACK_TIMEOUT,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        manifest: Path | None = MANIFEST,
        settings: Mapping[str, Any] | None = None,
        socket_mode: bool = False,
    ) -> None:
        self.port = port
        self.socket_mode = socket_mode
        self.drill = drill
        self.clock = clock
        self.run_scheduler = run_scheduler
        self.ack_timeout = ack_timeout
        self.retry_delays = tuple(retry_delays)
        self.manifest = manifest
        self.overrides = dict(settings or {})
        self.database_url = database_url
        self.signing_secret = secrets.token_hex(16)
        self.emulator = Emulator(token=BOT_TOKEN)
        self._tmpdir: str | None = None
        self._runtime: Runtime | None = None
        self._inbound: Inbound | None = None
        self._page: PageApp | None = None
        self._bot_server: SlackServer | None = None
        self._bot_thread: threading.Thread | None = None
        self._socket: SocketModeHandler | None = None

    # --- lifecycle -----------------------------------------------------------

    def start(self) -> Sandbox:
        """Start the emulator, then the bot, then wire Slack's inbound traffic to the bot."""
        try:
            self.emulator.start(self.port)
            if self.database_url is None:
                # The workspace lives in memory, so a fresh database keeps the two consistent.
                self._tmpdir = tempfile.mkdtemp(prefix="crisisbot-sandbox-")
                self.database_url = f"sqlite:///{Path(self._tmpdir) / 'sandbox.db'}"
            self._runtime = build_runtime(self.settings(), clock=self.clock)
            seed_accounts(self._runtime.deps)
            if self.socket_mode:
                self._socket = socket_mode.connect(self._runtime.app, APP_TOKEN)
                if not self.emulator.socket_mode.wait_connected():
                    raise RuntimeError("the bot did not connect in Socket Mode")
            else:
                self._serve_http(self._runtime)
            manifest = load_manifest(self.manifest)
            self._inbound = Inbound(
                self.emulator,
                self.bot_url if not self.socket_mode else "",
                self.signing_secret,
                ack_timeout=self.ack_timeout,
                retry_delays=self.retry_delays,
                bot_events=manifest.bot_events,
                socket_mode=self.emulator.socket_mode if self.socket_mode else None,
            ).attach()
            self._page = PageApp(self.emulator, self._inbound, manifest)
            self.emulator.page = self._page
            if self.run_scheduler:
                self._runtime.scheduler.start()
        except BaseException:
            self.stop()
            raise
        return self

    def _serve_http(self, runtime: Runtime) -> None:
        self._bot_server = make_server(
            runtime.app,
            host="127.0.0.1",
            port=0,
            signing_secret=self.signing_secret,
            ready=schema_readiness(runtime.engine),
        )
        self._bot_thread = threading.Thread(
            target=self._bot_server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="crisisbot-http",
            daemon=True,
        )
        self._bot_thread.start()

    def stop(self) -> None:
        """Stop everything started, newest first (idempotent)."""
        runtime, self._runtime = self._runtime, None
        if runtime is not None and runtime.scheduler.running:
            runtime.scheduler.shutdown(wait=True)
        if self._page is not None:
            self._page.close()
            self.emulator.page = None
            self._page = None
        if self._inbound is not None:
            self._inbound.close()
            self._inbound = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        if self._bot_server is not None:
            self._bot_server.shutdown()
            self._bot_server.server_close()
            self._bot_server = None
        if self._bot_thread is not None:
            self._bot_thread.join(5)
            self._bot_thread = None
        if runtime is not None:
            runtime.close()
        self.emulator.stop()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- parts ---------------------------------------------------------------

    def settings(self) -> Settings:
        """The bot's settings: pointed at the emulator, sharing the inbound signing secret."""
        values: dict[str, Any] = {
            "slack_api_url": self.emulator.api_url,
            "slack_bot_token": BOT_TOKEN,
            "slack_signing_secret": self.signing_secret,
            "slack_app_token": APP_TOKEN if self.socket_mode else None,
            "database_url": self.database_url,
            "announce_channel": ANNOUNCE_CHANNEL,
            "escalation_channel": ESCALATION_CHANNEL,
            "report_channel": REPORT_CHANNEL,
        }
        if self.drill:
            values.update(DRILL)
        values.update(self.overrides)
        return load_settings(**values)

    @property
    def runtime(self) -> Runtime:
        """The running bot (deps, app, scheduler, engine)."""
        if self._runtime is None:
            raise RuntimeError("sandbox is not running")
        return self._runtime

    @property
    def inbound(self) -> Inbound:
        """Slack's side of the conversation: commands, clicks, submissions and events."""
        if self._inbound is None:
            raise RuntimeError("sandbox is not running")
        return self._inbound

    @property
    def url(self) -> str:
        """The page, e.g. http://127.0.0.1:8080/."""
        return f"{self.emulator.url}/"

    @property
    def bot_url(self) -> str:
        """The bot's request URL (what Slack's app config calls the Request URL)."""
        if self._bot_server is None:
            raise RuntimeError("sandbox is not running")
        return f"http://127.0.0.1:{self._bot_server.server_address[1]}{EVENTS_PATH}"


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_sandbox(*, port: int = 8080, drill: bool = False, socket_mode: bool = False) -> int:
    """Run the sandbox until Ctrl-C; returns the process exit code."""
    sandbox = Sandbox(port=port, drill=drill, socket_mode=socket_mode)
    try:
        sandbox.start()
    except OSError as error:
        print(f"crisisbot sandbox: cannot listen on 127.0.0.1:{port}: {error.strerror}")
        return 1
    # `docker stop` and process managers send SIGTERM: stop as cleanly as on Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    mode = " (drill: sev1 updates every 2 minutes)" if drill else ""
    if socket_mode:
        mode += " (the bot is connected over Socket Mode)"
    print(f"crisisbot sandbox: open {sandbox.url}{mode}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("crisisbot sandbox: stopping", flush=True)
    finally:
        sandbox.stop()
    return 0


__all__ = ["DRILL", "Sandbox", "run_sandbox"]


def seed_accounts(deps: Deps, path: Path = ACCOUNTS_CSV) -> None:
    """Import the bundled accounts (an upsert: a restarted sandbox keeps what was changed
    elsewhere and gets the same accounts back)."""
    records = accounts.read_csv(
        path.read_text(encoding="utf-8"),
        default_timezone=deps.settings.timezone,
        lookup_email=lambda email: deps.slack.user_by_email(email=email),
    )
    with deps.session_factory() as session:
        accounts.upsert(session=session, records=records, now=deps.now())
