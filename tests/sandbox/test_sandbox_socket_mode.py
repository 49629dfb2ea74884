"""Socket Mode as Slack speaks it: apps.connections.open, hello, envelopes and their
acknowledgements, disconnect and reconnection; the app here is a plain WebSocket client."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from sandbox import Emulator, start_emulator
from sandbox.emulator import APP_TOKEN
from sandbox.inbound import Inbound
from tests.sandbox.conftest import SECRET, FakeApp
from tests.sandbox.test_sandbox_inbound import open_modal

Answer = Callable[[dict[str, Any]], dict[str, Any] | None]


@pytest.fixture
def emu() -> Iterator[Emulator]:
    """An emulator of its own: its Socket Mode connections end with the test."""
    with start_emulator() as emulator:
        yield emulator


def open_url(emu: Emulator, token: str = APP_TOKEN) -> str:
    return str(WebClient(base_url=emu.api_url).apps_connections_open(app_token=token)["url"])


class SocketApp:
    """An app in Socket Mode: acknowledges each envelope with what `answer` returns (None: no
    acknowledgement at all) and moves to a new connection when told to disconnect."""

    def __init__(self, emu: Emulator, answer: Answer = lambda envelope: {}) -> None:
        self.emu = emu
        self.answer = answer
        self.hellos: list[dict[str, Any]] = []
        self.envelopes: list[tuple[int, dict[str, Any]]] = []
        self.disconnects: list[dict[str, Any]] = []
        self._connect()

    def _connect(self) -> None:
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        assert ready.wait(5), "no hello"

    def _run(self, ready: threading.Event) -> None:
        with connect(open_url(self.emu)) as link:
            self.hellos.append(json.loads(link.recv(timeout=5)))
            number = len(self.hellos)
            ready.set()
            try:
                for raw in link:
                    message = json.loads(raw)
                    if message.get("type") == "disconnect":
                        self.disconnects.append(message)
                        self._connect()  # the new connection first, then let this one go
                        return
                    self.envelopes.append((number, message))
                    ack = self.answer(message)
                    if ack is not None:
                        link.send(json.dumps({"envelope_id": message["envelope_id"], **ack}))
            except ConnectionClosed:
                pass


@pytest.fixture
def inbound(emu: Emulator, app: FakeApp) -> Iterator[Inbound]:
    """Slack's side for an app in Socket Mode (its request URL is set, and never used)."""
    sender = Inbound(
        emu,
        app.url,
        SECRET,
        ack_timeout=1.0,
        retry_delays=(0.0, 0.05, 0.1),
        socket_mode=emu.socket_mode,
    )
    sender.attach()
    yield sender
    sender.close()


def test_apps_connections_open_takes_an_app_level_token_only(emu: Emulator) -> None:
    url = open_url(emu)
    assert url.startswith(f"ws://127.0.0.1:{emu.socket_mode.port}/link/?ticket=")
    assert "app_id=A0SANDBOX" in url

    def error(token: str | None) -> str:
        with pytest.raises(SlackApiError) as info:
            WebClient(base_url=emu.api_url).apps_connections_open(app_token=token)  # type: ignore[arg-type]
        return str(info.value.response["error"])

    assert error("xoxb-sandbox") == "not_allowed_token_type"  # the bot token
    assert error("xapp-1-A0OTHER-1-unknown") == "invalid_auth"
    assert error("") == "not_authed"
    # An app-level token is good for nothing else.
    with pytest.raises(SlackApiError) as info:
        WebClient(base_url=emu.api_url, token=APP_TOKEN).chat_postMessage(
            channel="C0CRISES", text="hi"
        )
    assert info.value.response["error"] == "not_allowed_token_type"


def test_hello_on_connect_and_a_url_is_good_once(emu: Emulator) -> None:
    url = open_url(emu)
    with connect(url) as link:
        hello = json.loads(link.recv(timeout=5))
        assert hello["type"] == "hello" and hello["num_connections"] == 1
        assert hello["connection_info"] == {"app_id": "A0SANDBOX"}
        assert {"host", "build_number", "approximate_connection_time"} <= set(hello["debug_info"])
        with pytest.raises(InvalidStatus) as refused:
            connect(url)
        assert refused.value.response.status_code == 401
        with connect(open_url(emu)) as second:
            assert json.loads(second.recv(timeout=5))["num_connections"] == 2


def test_a_slash_command_is_an_envelope_and_its_ack_payload_is_the_reply(
    emu: Emulator, app: FakeApp, inbound: Inbound
) -> None:
    SocketApp(emu, lambda envelope: {"payload": {"text": "Declaring *Acme*…"}})
    assert inbound.command("U0BEN", "C0CRISES", "new Acme: down sev1").ok
    (envelope,) = emu.socket_mode.envelopes
    assert envelope["type"] == "slash_commands" and envelope["accepts_response_payload"]
    payload = envelope["payload"]
    assert (payload["command"], payload["text"], payload["user_id"]) == (
        "/crisis",
        "new Acme: down sev1",
        "U0BEN",
    )
    assert payload["channel_id"] == "C0CRISES" and payload["trigger_id"]
    assert [e.text for e in emu.ephemerals("U0BEN")] == ["Declaring *Acme*…"]
    assert app.received == []  # nothing over HTTP
    (attempt,) = inbound.attempts
    assert attempt.ok and attempt.envelope_id == envelope["envelope_id"]


def test_a_command_not_acknowledged_in_time_shows_slacks_error(
    emu: Emulator, inbound: Inbound
) -> None:
    SocketApp(emu, lambda envelope: None)
    outcome = inbound.command("U0BEN", "C0CRISES", "help")
    assert (outcome.ok, outcome.error) == (False, "operation_timeout")
    assert [e.text for e in emu.ephemerals("U0BEN")] == [
        '/crisis failed with the error "operation_timeout"'
    ]


def test_with_no_connection_nothing_is_delivered(emu: Emulator, inbound: Inbound) -> None:
    inbound.ack_timeout = 0.2
    outcome = inbound.command("U0BEN", "C0CRISES", "help")
    assert (outcome.ok, outcome.error) == (False, "dispatch_failed")


def test_view_submission_errors_come_back_in_the_ack_payload(
    emu: Emulator, inbound: Inbound
) -> None:
    errors = {"response_action": "errors", "errors": {"customer": "Customer is required."}}
    SocketApp(emu, lambda envelope: {"payload": errors})
    view_id = open_modal(emu)
    outcome = inbound.view_submission("U0ANA", view_id, {})
    assert (outcome.ok, outcome.errors) == (False, {"customer": "Customer is required."})
    (envelope,) = emu.socket_mode.envelopes
    assert envelope["type"] == "interactive" and envelope["accepts_response_payload"]
    assert envelope["payload"]["type"] == "view_submission"
    assert [v.id for v in emu.open_views("U0ANA")] == [view_id]


def test_a_click_is_an_interactive_envelope(emu: Emulator, inbound: Inbound) -> None:
    SocketApp(emu)
    action = {"type": "button", "action_id": "crisis_ack", "block_id": "b", "value": "1"}
    assert inbound.block_action("U0ANA", action, channel_id="C0CRISES", message_ts="1.0").ok
    (envelope,) = emu.socket_mode.envelopes
    assert envelope["type"] == "interactive" and not envelope["accepts_response_payload"]
    assert envelope["payload"]["actions"][0]["action_id"] == "crisis_ack"


def test_an_unacknowledged_event_is_redelivered_with_its_retry_number(
    emu: Emulator, inbound: Inbound
) -> None:
    seen: list[int] = []

    def answer(envelope: dict[str, Any]) -> dict[str, Any] | None:
        seen.append(envelope["retry_attempt"])
        return {} if len(seen) > 1 else None

    SocketApp(emu, answer)
    inbound.ack_timeout = 0.3
    inbound.event({"type": "reaction_added", "user": "U0ANA", "reaction": "eyes"})
    assert inbound.wait_idle()
    first, second = emu.socket_mode.envelopes
    assert first["type"] == "events_api" and not first["accepts_response_payload"]
    assert first["payload"]["event"]["type"] == "reaction_added"
    assert first["payload"]["event_id"] == second["payload"]["event_id"]
    assert (first["retry_attempt"], second["retry_attempt"]) == (0, 1)
    assert second["retry_reason"]
    assert [a.ok for a in inbound.attempts] == [False, True]


def test_disconnect_then_the_app_moves_to_a_new_connection(emu: Emulator, inbound: Inbound) -> None:
    app = SocketApp(emu, lambda envelope: {"payload": {"text": "ok"}})
    assert emu.socket_mode.disconnect("refresh_requested") == 1
    assert emu.socket_mode.wait_connected(opened=2)
    emu.wait_for(lambda: emu.socket_mode.connections == 1)
    assert app.disconnects[0]["type"] == "disconnect"
    assert app.disconnects[0]["reason"] == "refresh_requested"
    assert len(app.hellos) == 2
    assert inbound.command("U0BEN", "C0CRISES", "help").ok
    assert [number for number, _ in app.envelopes] == [2]  # on the new connection


def test_during_a_refresh_envelopes_go_to_the_new_connection_once_it_is_open(
    emu: Emulator,
) -> None:
    """Slack gives each envelope to one of the app's connections; one told to move still gets
    them while it is the only one, and none once the app has opened its new one."""

    def deliver_on(link: Any) -> dict[str, Any]:
        acks: list[Any] = []
        payload = {"event": {"type": "reaction_added"}, "event_id": "Ev1"}
        sender = threading.Thread(
            target=lambda: acks.append(emu.socket_mode.deliver("events_api", payload, timeout=5))
        )
        sender.start()
        envelope: dict[str, Any] = json.loads(link.recv(timeout=5))
        link.send(json.dumps({"envelope_id": envelope["envelope_id"]}))
        sender.join(5)
        assert acks[0].acked
        return envelope

    with connect(open_url(emu)) as old:
        old.recv(timeout=5)
        assert emu.socket_mode.disconnect("refresh_requested", grace=30) == 1
        assert json.loads(old.recv(timeout=5))["reason"] == "refresh_requested"
        assert deliver_on(old)["type"] == "events_api"  # still its only connection
        with connect(open_url(emu)) as new:
            assert json.loads(new.recv(timeout=5))["num_connections"] == 2
            assert deliver_on(new)["type"] == "events_api"
            assert deliver_on(new)["type"] == "events_api"
            with pytest.raises(TimeoutError):
                old.recv(timeout=0.2)  # nothing more on the old one
    assert len(emu.socket_mode.acks) == 3


def test_an_app_that_does_not_move_is_closed_after_the_grace(emu: Emulator) -> None:
    with connect(open_url(emu)) as link:
        link.recv(timeout=5)
        emu.socket_mode.disconnect("warning", grace=0.1)
        assert json.loads(link.recv(timeout=5))["reason"] == "warning"
        with pytest.raises(ConnectionClosed):
            link.recv(timeout=5)
    emu.wait_for(lambda: emu.socket_mode.connections == 0)


def test_a_drop_closes_the_connection_without_a_word(emu: Emulator) -> None:
    with connect(open_url(emu)) as link:
        link.recv(timeout=5)
        assert emu.socket_mode.drop() == 1
        with pytest.raises(ConnectionClosed) as closed:
            link.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011
    emu.wait_for(lambda: emu.socket_mode.connections == 0)
    assert emu.socket_mode.envelopes == []
