"""The Emulator: Slack Web API over local HTTP, its call record, faults and test helpers."""

from __future__ import annotations

import base64
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import TypeVar
from urllib.parse import parse_qs, urlencode

from sandbox.api_files import file_content, receive_upload
from sandbox.apicommon import Caller, SlackApiError
from sandbox.faults import Failure, Faults, RateLimiter
from sandbox.helpers import WorkspaceHelpers
from sandbox.responses import ResponsePost, ResponseUrls
from sandbox.seed import default_workspace
from sandbox.server import EmulatorHTTPServer, Page, Reply, serve
from sandbox.socket_mode import SocketMode, app_id_of
from sandbox.webapi import METHODS, call_method, error_body
from sandbox.workspace import JSON, Workspace

T = TypeVar("T")
# The app-level token (connections:write) of the sandbox's app, for Socket Mode.
APP_TOKEN = "xapp-1-A0SANDBOX-1-sandbox"
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
        app_token: str = APP_TOKEN,
        workspace: Workspace | None = None,
        rate_limit_window: float = 60.0,
        strict_triggers: bool = False,
    ) -> None:
        self.workspace = workspace or default_workspace()
        self.workspace.strict_triggers = strict_triggers
        self._initial = (strict_triggers, rate_limit_window)
        self.token = token
        self.tokens: dict[str, str] = {token: self.workspace.bot_user_id}
        # App-level tokens (xapp-…) and their app: good for apps.connections.open only.
        self.app_tokens: dict[str, str] = {app_token: app_id_of(app_token)}
        self.socket_mode = SocketMode()
        # Each workspace the app is in, and the one each token belongs to: a token of one
        # workspace never reaches another's channels.
        self.workspaces: dict[str, Workspace] = {self.workspace.team.id: self.workspace}
        self.token_teams: dict[str, str] = {token: self.workspace.team.id}
        self.bot_tokens: dict[str, str] = {self.workspace.team.id: token}
        # The app's OAuth credentials (``configure_oauth``) and the codes issued by authorize.
        self.client_id: str | None = None
        self.client_secret: str | None = None
        self.redirect_url: str | None = None
        self.oauth_codes: dict[str, tuple[str, str | None]] = {}
        self.rate_limiter = RateLimiter(rate_limit_window)
        self.faults = Faults()
        self.responses = ResponseUrls(self.workspace)
        self.team_responses: dict[str, ResponseUrls] = {self.workspace.team.id: self.responses}
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
            self.workspace.base_url = self.url
        return self

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        self.socket_mode.stop()
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

    # --- more workspaces and OAuth ---------------------------------------------

    def add_workspace(self, workspace: Workspace, *, token: str) -> Workspace:
        """Another workspace the app is (or can be) installed in; ``token`` is its bot token."""
        team = workspace.team.id
        self.workspaces[team] = workspace
        self.tokens[token] = workspace.bot_user_id
        self.token_teams[token] = team
        self.bot_tokens[team] = token
        self.team_responses[team] = ResponseUrls(workspace)
        workspace.subscribe(lambda _event: self._notify())
        return workspace

    def workspace_of(self, user_id: str) -> Workspace:
        """The workspace ``user_id`` belongs to (the first one for anyone else)."""
        for workspace in self.workspaces.values():
            user = workspace.users.get(user_id)
            if user is not None and user.team_id == workspace.team.id:
                return workspace
        return self.workspace

    def configure_oauth(
        self, *, client_id: str, client_secret: str, redirect_url: str | None = None
    ) -> None:
        """The app's credentials, as its Basic Information page shows them, and its redirect
        URL (the manifest's ``oauth_config.redirect_urls``)."""
        self.client_id, self.client_secret = client_id, client_secret
        self.redirect_url = redirect_url

    def revoke(self, team_id: str) -> None:
        """The app is uninstalled from ``team_id``: its bot token stops working."""
        token = self.bot_tokens.pop(team_id, None)
        if token is not None:
            self.tokens.pop(token, None)
            self.token_teams.pop(token, None)

    def handle_authorize(self, query: str) -> tuple[int, dict[str, str], str]:
        """GET /oauth/v2/authorize: the person installing picks a workspace (``team``, else
        the first) and allows; Slack sends them back to the redirect URL with a code."""
        args = {key: values[-1] for key, values in parse_qs(query).items()}
        if self.client_id is None or args.get("client_id") != self.client_id:
            return 400, {}, "invalid_client_id"
        redirect_uri = args.get("redirect_uri") or self.redirect_url
        if not redirect_uri:
            return 400, {}, "bad_redirect_uri"
        team = args.get("team") or self.workspace.team.id
        if team not in self.workspaces:
            return 400, {}, "invalid_team"
        code = secrets.token_hex(12)
        with self._changed:
            self.oauth_codes[code] = (team, args.get("redirect_uri"))
        back = {"code": code, "state": args.get("state", "")}
        separator = "&" if "?" in redirect_uri else "?"
        return 302, {"Location": f"{redirect_uri}{separator}{urlencode(back)}"}, ""

    def _oauth_v2_access(self, args: JSON, basic: str | None) -> Reply:
        client_id, client_secret = args.get("client_id"), args.get("client_secret")
        if basic:
            try:
                client_id, _, client_secret = base64.b64decode(basic).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return Reply(200, {"ok": False, "error": "invalid_auth"})
        if self.client_id is None or client_id != self.client_id:
            return Reply(200, {"ok": False, "error": "invalid_client_id"})
        if client_secret != self.client_secret:
            return Reply(200, {"ok": False, "error": "bad_client_secret"})
        with self._changed:
            issued = self.oauth_codes.pop(str(args.get("code") or ""), None)
        if issued is None:
            return Reply(200, {"ok": False, "error": "invalid_code"})
        team_id, redirect_uri = issued
        if args.get("redirect_uri") and args.get("redirect_uri") != redirect_uri:
            return Reply(200, {"ok": False, "error": "bad_redirect_uri"})
        workspace = self.workspaces[team_id]
        token = self.bot_tokens.get(team_id)
        if token is None:  # installed again after an uninstall: a new token
            token = f"xoxb-{team_id.lower()}-{secrets.token_hex(6)}"
            self.tokens[token] = workspace.bot_user_id
            self.token_teams[token] = team_id
            self.bot_tokens[team_id] = token
        body: JSON = {
            "ok": True,
            "access_token": token,
            "token_type": "bot",
            "scope": "commands,chat:write",
            "bot_user_id": workspace.bot_user_id,
            "app_id": "A0CRISIS",
            "team": {"id": team_id, "name": workspace.team.name},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": "U0INSTALLER"},
        }
        return Reply(200, body)

    def reset(self) -> None:
        """Restore the seeded workspace and clear calls, faults, limits and response URLs."""
        for other in self.workspaces.values():
            if other is not self.workspace:
                other.reset()
        for responses in self.team_responses.values():
            if responses is not self.responses:
                responses.clear()
        self.workspace.reset()
        self.workspace.strict_triggers, self.rate_limiter.window = self._initial
        self.workspace.chat_write_public = False
        self.rate_limiter.reset()
        self.rate_limiter.enabled = False
        self.faults = Faults()
        self.responses.clear()
        self.clear_calls()

    # --- request handling ----------------------------------------------------

    def handle_api(
        self, method: str, args: JSON, token: str | None, basic: str | None = None
    ) -> Reply:
        """Answer one Web API call the way Slack would (independent of HTTP); ``basic`` is
        an HTTP Basic credential (oauth.v2.access sends the app's id and secret so)."""
        if self.faults.latency > 0:
            time.sleep(self.faults.latency)
        if method == "oauth.v2.access":
            reply = self._oauth_v2_access(args, basic)
        else:
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
        if method == "apps.connections.open":
            return self._connections_open(token)
        if method not in METHODS:
            return Reply(200, {"ok": False, "error": "unknown_method", "req_method": method})
        if not token:
            return Reply(200, {"ok": False, "error": "not_authed"})
        user_id = self.tokens.get(token)
        if user_id is None and token in self.app_tokens:
            return Reply(200, {"ok": False, "error": "not_allowed_token_type"})
        if user_id is None:
            return Reply(200, {"ok": False, "error": "invalid_auth"})
        retry_after = self.rate_limiter.check(method, args, time.monotonic())
        if retry_after is not None:
            body = {"ok": False, "error": "ratelimited"}
            return Reply(429, body, {"Retry-After": str(retry_after)})
        workspace = self.workspaces[self.token_teams.get(token, self.workspace.team.id)]
        user = workspace.users[user_id]
        caller = Caller(user.id, user.team_id, user.bot_id)
        failure = self.faults.next_failure(method)
        if failure is None or failure.apply:
            try:
                result = call_method(workspace, caller, method, args)
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

    def _connections_open(self, token: str | None) -> Reply:
        """apps.connections.open: a WebSocket URL for an app-level token, and for no other."""
        if not token:
            return Reply(200, {"ok": False, "error": "not_authed"})
        if token in self.tokens:
            return Reply(200, {"ok": False, "error": "not_allowed_token_type"})
        app_id = self.app_tokens.get(token)
        if app_id is None:
            return Reply(200, {"ok": False, "error": "invalid_auth"})
        return Reply(200, {"ok": True, "url": self.socket_mode.open_url(app_id)})

    def handle_response_url(self, url_id: str, body: JSON) -> tuple[int, str]:
        """Answer a POST to a minted response_url; returns (status, text body)."""
        responses = next(
            (each for each in self.team_responses.values() if url_id in each.urls),
            self.responses,
        )
        result = responses.post(url_id, body)
        self._notify()
        return result

    def handle_upload(self, upload_id: str, content: bytes) -> tuple[int, str]:
        """The bytes of a file POSTed to the upload URL files.getUploadURLExternal gave."""
        return receive_upload(self.workspace, upload_id, content)

    def handle_file(self, team_and_file: str) -> tuple[bytes, str] | None:
        """A completed file's bytes for its ``url_private`` (the page shows images with it)."""
        file = file_content(self.workspace, team_and_file)
        return (file.content or b"", file.mimetype) if file is not None else None

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
        posts: list[ResponsePost] = []
        for responses in self.team_responses.values():
            with responses.lock:
                posts.extend(responses.posts)
        return sorted(posts, key=lambda post: post.at)

    def issue_trigger(self, user_id: str) -> str:
        """Mint a trigger_id as if `user_id` had just clicked or run a command."""
        return self.workspace_of(user_id).issue_trigger(user_id)

    def new_response_url(self, channel_id: str, user_id: str, message_ts: str | None = None) -> str:
        """Mint a response_url for an interaction by the user (about `message_ts`, if given)."""
        team = self.workspace_of(user_id).team.id
        rid = self.team_responses[team].mint(channel_id, user_id, message_ts).id
        return f"{self.url}/response/{rid}"


def start_emulator(
    port: int = 0,
    *,
    token: str = "xoxb-sandbox",
    app_token: str = APP_TOKEN,
    workspace: Workspace | None = None,
    rate_limit_window: float = 60.0,
    strict_triggers: bool = False,
) -> Emulator:
    """Create an Emulator and start serving it on 127.0.0.1:`port` (0 = a free port)."""
    emulator = Emulator(
        token=token,
        app_token=app_token,
        workspace=workspace,
        rate_limit_window=rate_limit_window,
        strict_triggers=strict_triggers,
    )
    return emulator.start(port)


__all__ = ["APP_TOKEN", "Call", "Emulator", "Reply", "start_emulator"]
