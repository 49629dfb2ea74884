"""The HTTP server (crisisbot/http.py) as Slack, a load balancer and a broken client see it:
health and readiness, malformed requests, the body cap, slow clients."""

from __future__ import annotations

import json
import logging
import socket
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_bolt import App

from bot.db.session import make_engine
from crisisbot.http import make_server
from crisisbot.runtime import schema_readiness
from sandbox.payloads import slash_command_form
from tests.harness import Bot, sign
from tests.support import SIGNING_SECRET, event_envelope

# Put in every malformed body: it must never reach the log.
MARKER = "Zq7-body-text-never-logged"


def raw(port: int, request: bytes, *, timeout: float = 10) -> tuple[int, bytes]:
    """Send ``request`` bytes as they are; the status and body of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        return read_answer(sock)


def read_answer(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"the connection closed without an answer: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split()[1]), body


def post(
    port: int,
    body: bytes,
    content_type: str,
    *,
    content_length: str | None = None,
    signed: bool = True,
) -> bytes:
    """A POST to /slack/events as raw bytes, signed as Slack signs it."""
    headers = sign(body.decode("utf-8", "replace")) if signed else {}
    if signed and not _utf8(body):
        # Sign the bytes themselves: the signature is over what is sent.
        import hashlib
        import hmac

        ts = str(int(time.time()))
        digest = hmac.new(
            SIGNING_SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256
        )
        headers = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + digest.hexdigest()}
    lines = [
        "POST /slack/events HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"Content-Type: {content_type}",
        f"Content-Length: {content_length if content_length is not None else len(body)}",
        *(f"{k}: {v}" for k, v in headers.items()),
        "Connection: close",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def port_of(bot: Bot) -> int:
    return bot.server.server_address[1]


def assert_clean_log(caplog: pytest.LogCaptureFixture, *, lines: int | None = None) -> None:
    """No traceback, no body text; ``lines`` warning-or-worse lines if given."""
    for record in caplog.records:
        assert record.exc_info is None, record.getMessage()
        assert "Traceback" not in record.getMessage()
        assert MARKER not in record.getMessage(), record.getMessage()
    if lines is not None:
        loud = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(loud) == lines, loud


# --- health and readiness -------------------------------------------------------------------


def get(port: int, path: str) -> tuple[int, bytes]:
    return raw(port, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())


def test_health_and_ready_answer_when_the_database_is_current(bot: Bot) -> None:
    assert get(port_of(bot), "/health") == (200, b"ok")
    assert get(port_of(bot), "/ready") == (200, b"ready")
    assert get(port_of(bot), "/nowhere")[0] == 404


@pytest.fixture
def bare_app() -> App:
    return App(signing_secret=SIGNING_SECRET, token="xoxb-1", token_verification_enabled=False)


@pytest.mark.parametrize("database", ["empty", "unreachable"])
def test_ready_says_503_when_the_schema_is_behind_or_the_database_is_gone(
    bare_app: App, tmp_path: Path, database: str, caplog: pytest.LogCaptureFixture
) -> None:
    if database == "empty":
        url = f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        url = f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}"
    engine = make_engine(url)
    server = make_server(
        bare_app,
        host="127.0.0.1",
        port=0,
        signing_secret=SIGNING_SECRET,
        ready=schema_readiness(engine),
    )
    serve(server)
    try:
        port = server.server_address[1]
        assert get(port, "/ready") == (503, b"not ready")
        assert get(port, "/health") == (200, b"ok")
    finally:
        server.shutdown()
        engine.dispose()
    assert any("not ready" in r.getMessage() for r in caplog.records)


def serve(server: Any) -> None:
    import threading

    threading.Thread(target=server.serve_forever, daemon=True).start()


# --- malformed requests ---------------------------------------------------------------------

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def command_form(bot: Bot, **drop: bool) -> dict[str, str]:
    form = slash_command_form(bot.emulator, user_id="U0ANA", channel_id="C0GENERAL", text="help")
    return {k: v for k, v in form.items() if k not in drop}


MALFORMED: dict[str, tuple[str, Any]] = {
    "broken JSON in an event": (JSON, b'{"type": "event_callback", "event": {"' + MARKER.encode()),
    "a JSON array": (JSON, json.dumps([MARKER, {"type": "event_callback"}]).encode()),
    "a payload that is not JSON": (FORM, urlencode({"payload": "{" + MARKER}).encode()),
    "a payload that is a JSON string": (FORM, urlencode({"payload": json.dumps(MARKER)}).encode()),
    "an event that is not an object": (
        JSON,
        json.dumps(event_envelope(MARKER, event_id="Ev1")).encode(),  # type: ignore[arg-type]
    ),
    "a body that is not UTF-8": (FORM, b"text=" + MARKER.encode() + b"\xff\xfe"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_signed_request_gets_400_and_one_clean_log_line(
    bot: Bot, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    content_type, body = MALFORMED[case]
    status, answer = raw(port_of(bot), post(port_of(bot), body, content_type))
    assert (status, answer) == (400, b"bad request")
    assert_clean_log(caplog, lines=1)
    assert "rejected a malformed request" in caplog.records[-1].getMessage()


def test_a_slash_command_without_user_id_gets_400_not_500(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    form = command_form(bot, user_id=True) | {"text": f"new {MARKER}: down sev1"}
    status, _ = raw(port_of(bot), post(port_of(bot), urlencode(form).encode(), FORM))
    assert status == 400
    assert_clean_log(caplog, lines=1)
    assert caplog.records[-1].getMessage().endswith("a slash command without user_id")
    assert not bot.emulator.calls_to("chat.postEphemeral")


@pytest.mark.parametrize("length", ["-5", "abc", "12, 13", "9" * 30])
def test_a_bad_content_length_gets_400_not_a_dropped_connection(
    bot: Bot, length: str, caplog: pytest.LogCaptureFixture
) -> None:
    body = urlencode(command_form(bot) | {"text": MARKER}).encode()
    status, _ = raw(port_of(bot), post(port_of(bot), body, FORM, content_length=length))
    assert status in (400, 413)
    assert_clean_log(caplog, lines=1)


def test_a_body_over_1_mb_is_refused_before_it_is_sent(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    """The cap is read from Content-Length: the answer comes with no body byte sent."""
    head = post(port_of(bot), b"", FORM, content_length=str(1_000_001))
    status, _ = raw(port_of(bot), head)
    assert status == 413
    assert_clean_log(caplog, lines=1)


def test_a_malformed_unsigned_request_gets_401(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    status, _ = raw(port_of(bot), post(port_of(bot), b"[1, 2]", JSON, signed=False))
    assert status == 401
    assert_clean_log(caplog, lines=1)


def test_a_well_formed_command_still_works(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    answer = bot.command("help")
    assert answer.status == 200 and "/crisis new" in answer.text
    assert_clean_log(caplog, lines=0)


# --- generated malformed requests -----------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=8,
)
# Keys Bolt and the listeners look at, with values of any JSON type.
slack_keys = st.sampled_from(
    [
        "type",
        "event",
        "user",
        "team",
        "channel",
        "view",
        "actions",
        "authorizations",
        "enterprise",
        "container",
        "trigger_id",
        "command",
        "user_id",
        "response_url",
        "challenge",
        "is_enterprise_install",
        "team_id",
        "api_app_id",
    ]
)
slack_types = st.sampled_from(
    [
        "event_callback",
        "url_verification",
        "block_actions",
        "view_submission",
        "view_closed",
        "block_suggestion",
        "shortcut",
        "message_action",
        "app_rate_limited",
    ]
)
slack_shaped = st.builds(
    lambda kind, extra: {"type": kind, **extra, "note": MARKER},
    slack_types,
    st.dictionaries(slack_keys, json_values, max_size=5),
)


@st.composite
def malformed_bodies(draw: st.DrawFn) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(["json", "payload", "form", "bytes"]))
    value = draw(slack_shaped | json_values)
    if kind == "json":
        return JSON, json.dumps(value).encode()
    if kind == "payload":
        text = draw(st.sampled_from([json.dumps(value), "{" + MARKER, json.dumps(value)[:-1]]))
        return FORM, urlencode({"payload": text}).encode()
    if kind == "form":
        fields = draw(
            st.dictionaries(
                st.sampled_from(
                    ["command", "user_id", "channel_id", "team_id", "trigger_id", "text"]
                ),
                st.text(max_size=6),
            )
        )
        return FORM, urlencode({**fields, "text": MARKER, "command": "/crisis"}).encode()
    return draw(st.sampled_from([FORM, JSON, "text/plain"])), MARKER.encode() + draw(
        st.binary(max_size=40)
    )


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=malformed_bodies())
def test_generated_signed_requests_never_500_nor_a_traceback(
    bot: Bot, request: tuple[str, bytes], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.clear()
    content_type, body = request
    status, _ = raw(port_of(bot), post(port_of(bot), body, content_type))
    assert status in (200, 400, 404), status
    assert_clean_log(caplog)
    if status == 400:
        loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(loud) == 1, [r.getMessage() for r in loud]
