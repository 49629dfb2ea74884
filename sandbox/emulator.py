"""The Emulator: Slack Web API over local HTTP, its call record, faults and test helpers."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import TypeVar

from sandbox.apicommon import Caller, SlackApiError
from sandbox.faults import Failure, Faults, RateLimiter
from sandbox.helpers import WorkspaceHelpers
from sandbox.responses import ResponsePost, ResponseUrls
from sandbox.seed import default_workspace
from sandbox.server import EmulatorHTTPServer, Page, Reply, serve
from sandbox.webapi import METHODS, call_method, error_body
from sandbox.workspace import JSON, Workspace

T = TypeVar("T")
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Call:
    """One Web API call as the emulator answered it."""

    method: str
    args: JSON
    ok: bool
    error: str | None
    status: int
    at: float
    response: JSON = field(default_factory=dict, compare=False)


class Emulator(WorkspaceHelpers):
    """A stateful stand-in for Slack's Web API; see start_emulator()."""

    def __init__(
        self,
        *,
        token: str = "xoxb-sandbox",
        workspace: Workspace | None = None,
        rate_limit_window: float = 60.0,
        strict_triggers: bool = False,
    ) -> None:
        self.workspace = workspace or default_workspace()
        self.workspace.strict_triggers = strict_triggers
        self._initial = (strict_triggers, rate_limit_window)
        self.token = token
        self.tokens: dict[str, str] = {token: self.workspace.bot_user_id}
        self.rate_limiter = RateLimiter(rate_limit_window)
        self.faults = Faults()
        self.responses = ResponseUrls(self.workspace)
        self._calls: list[Call] = []
        self._changed = threading.Condition()
        self._server: EmulatorHTTPServer | None = None
        # The sandbox's web page, served next to the API when attached (see sandbox.page).
        self.page: Page | None = None
        self.workspace.subscribe(lambda _event: self._notify())

    # --- lifecycle -----------------------------------------------------------

    def start(self, port: int = 0, host: str = "127.0.0.1") -> Emulator:
        """Serve HTTP on host:port (0 picks a free port) in a daemon thread."""
        if self._server is None:
            self._server = serve(self, host, port)
        return self

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound TCP port."""
        if self._server is None:
            raise RuntimeError("emulator is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:PORT."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """The WebClient base_url (with the trailing slash slack_sdk needs)."""
        return f"{self.url}/api/"

    def reset(self) -> None:
        """Restore the seeded workspace and clear calls, faults, limits and response URLs."""
        self.workspace.reset()
        self.workspace.strict_triggers, self.rate_limiter.window = self._initial
        self.workspace.chat_write_public = False
        self.rate_limiter.reset()
        self.rate_limiter.enabled = False
        self.faults = Faults()
        self.responses.clear()
        self.clear_calls()

    # --- request handling ----------------------------------------------------

    def handle_api(self, method: str, args: JSON, token: str | None) -> Reply:
        """Answer one Web API call the way Slack would (independent of HTTP)."""
        if self.faults.latency > 0:
            time.sleep(self.faults.latency)
        reply = self._answer(method, args, token)
        body = reply.body
        call = Call(
            method, args, bool(body.get("ok")), body.get("error"), reply.status, time.time(), body
        )
        with self._changed:
            self._calls.append(call)
            self._changed.notify_all()
        return reply

    def _answer(self, method: str, args: JSON, token: str | None) -> Reply:
        if method not in METHODS:
            return Reply(200, {"ok": False, "error": "unknown_method", "req_method": method})
        if not token:
            return Reply(200, {"ok": False, "error": "not_authed"})
        user_id = self.tokens.get(token)
        if user_id is None:
            return Reply(200, {"ok": False, "error": "invalid_auth"})
        retry_after = self.rate_limiter.check(method, args, time.monotonic())
        if retry_after is not None:
            body = {"ok": False, "error": "ratelimited"}
            return Reply(429, body, {"Retry-After": str(retry_after)})
        user = self.workspace.users[user_id]
        caller = Caller(user.id, user.team_id, user.bot_id)
        failure = self.faults.next_failure(method)
        if failure is None or failure.apply:
            try:
                result = call_method(self.workspace, caller, method, args)
            except SlackApiError as exc:
                result = error_body(exc)
            except Exception as exc:  # An emulator bug: answer like Slack's 500, keep serving.
                logger.exception("sandbox: %s failed", method)
                return Reply(500, {"ok": False, "error": "internal_error", "detail": repr(exc)})
            if failure is None:
                return Reply(200, result)
        assert failure is not None
        if failure.status == 429:
            headers = {"Retry-After": str(failure.retry_after)}
            return Reply(429, {"ok": False, "error": failure.error}, headers)
        return Reply(failure.status, {"ok": False, "error": failure.error})

    def handle_response_url(self, url_id: str, body: JSON) -> tuple[int, str]:
        """Answer a POST to a minted response_url; returns (status, text body)."""
        result = self.responses.post(url_id, body)
        self._notify()
        return result

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    # --- faults and limits ---------------------------------------------------

    def set_rate_limits(self, enabled: bool = True, *, window: float | None = None) -> None:
        """Apply Slack's per-method tiers; `window` (seconds) scales Slack's minute."""
        if window is not None:
            self.rate_limiter.window = window
        self.rate_limiter.reset()
        self.rate_limiter.enabled = enabled

    def set_latency(self, seconds: float) -> None:
        """Delay every Web API answer by `seconds`."""
        self.faults.latency = max(0.0, seconds)

    def set_error_rate(
        self,
        fraction: float,
        *,
        seed: int | None = None,
        statuses: tuple[int, ...] = (500, 503),
        apply: bool = False,
        retry_after: int = 1,
    ) -> None:
        """Answer about `fraction` of calls with one of `statuses`, drawn at random: a 5xx,
        429 (with ``Retry-After: retry_after``) or ``DROP`` (the connection closed, no answer);
        `apply` runs the call first (not for 429: Slack refuses those before doing anything)."""
        self.faults.error_rate = fraction
        self.faults.statuses = statuses
        self.faults.apply_before_failing = apply
        self.faults.retry_after = retry_after
        if seed is not None:
            self.faults.rng.seed(seed)

    def fail_next(
        self, method: str, error: str = "internal_error", *, status: int = 200, times: int = 1
    ) -> None:
        """Answer the next `times` calls of `method` with `error` (and HTTP `status`)."""
        self.faults.script(method, Failure(error, status), times)

    def set_strict_triggers(self, strict: bool = True) -> None:
        """Strict: views.open/push accept only unused trigger ids minted here within 3 s."""
        self.workspace.strict_triggers = strict

    # --- call record ---------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """Every Web API call so far, oldest first (a copy)."""
        with self._changed:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        """The calls of one method, oldest first."""
        return [c for c in self.calls if c.method == method]

    def clear_calls(self) -> None:
        """Forget recorded calls."""
        with self._changed:
            self._calls.clear()

    def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """Wait until `predicate()` is truthy and return its value; TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout} s")
            with self._changed:
                self._changed.wait(min(0.05, remaining))

    @property
    def response_posts(self) -> list[ResponsePost]:
        """Every body posted to a response_url, oldest first."""
        with self.responses.lock:
            return list(self.responses.posts)

    def issue_trigger(self, user_id: str) -> str:
        """Mint a trigger_id as if `user_id` had just clicked or run a command."""
        return self.workspace.issue_trigger(user_id)

    def new_response_url(self, channel_id: str, user_id: str, message_ts: str | None = None) -> str:
        """Mint a response_url for an interaction by the user (about `message_ts`, if given)."""
        rid = self.responses.mint(channel_id, user_id, message_ts).id
        return f"{self.url}/response/{rid}"


def start_emulator(
    port: int = 0,
    *,
    token: str = "xoxb-sandbox",
    workspace: Workspace | None = None,
    rate_limit_window: float = 60.0,
    strict_triggers: bool = False,
) -> Emulator:
    """Create an Emulator and start serving it on 127.0.0.1:`port` (0 = a free port)."""
    emulator = Emulator(
        token=token,
        workspace=workspace,
        rate_limit_window=rate_limit_window,
        strict_triggers=strict_triggers,
    )
    return emulator.start(port)


__all__ = ["Call", "Emulator", "Reply", "start_emulator"]
