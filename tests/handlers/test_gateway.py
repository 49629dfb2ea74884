"""The Slack gateway against the emulator: Slack's own errors handled where they should be."""

import threading
from datetime import UTC, datetime

import pytest

from bot.services.port import Person, SlackFailure
from bot.slack_gateway import LookupCache, SlackGateway, make_client
from sandbox import Emulator
from sandbox.faults import DROP, Failure
from tests.support import FastRetryTime


@pytest.fixture
def gateway(emulator: Emulator) -> SlackGateway:
    client = make_client(
        token="xoxb-sandbox", base_url=emulator.api_url, timeout=5, time_source=FastRetryTime()
    )
    return SlackGateway(client)


def test_one_member_already_in_does_not_keep_the_others_out(
    gateway: SlackGateway, emulator: Emulator
) -> None:
    channel, _ = gateway.create_channel(name="crisis-test")
    gateway.invite(channel=channel, users=["U0ANA"])
    gateway.invite(channel=channel, users=["U0ANA", "U0BEN", "UNOBODY", "U0CHEN"])
    assert {"U0ANA", "U0BEN", "U0CHEN"} <= emulator.workspace.channels[channel].members


def test_pinning_twice_is_fine_and_other_errors_surface(gateway: SlackGateway) -> None:
    channel, _ = gateway.create_channel(name="crisis-pins")
    ts = gateway.post(channel=channel, text="Next update by …")
    gateway.pin(channel=channel, ts=ts)
    gateway.pin(channel=channel, ts=ts)
    with pytest.raises(SlackFailure) as raised:
        gateway.pin(channel=channel, ts="1.000001")
    assert raised.value.error == "message_not_found"


def test_posting_to_a_public_channel_joins_it_first(
    gateway: SlackGateway, emulator: Emulator
) -> None:
    ts = gateway.post(channel="C0ESCAL", text="escalation")
    assert [m.ts for m in emulator.messages("C0ESCAL")][-1] == ts
    assert [c.method for c in emulator.calls if c.method.startswith(("chat", "conv"))] == [
        "chat.postMessage",
        "conversations.join",
        "chat.postMessage",
    ]


def test_a_file_is_uploaded_into_a_channel_it_joins_and_found_again(
    gateway: SlackGateway, emulator: Emulator
) -> None:
    before = datetime.fromtimestamp(emulator.workspace.now() - 1, UTC)
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    file_id = gateway.upload_file(
        channel="C0ESCAL",
        filename="digest-2026-11-23.png",
        content=png,
        title="Promises kept",
        alt_txt="A chart",
        initial_comment="The chart",
    )
    (message,) = [m for m in emulator.messages("C0ESCAL") if m.files]
    assert message.text == "The chart" and message.files is not None
    assert message.files[0]["id"] == file_id and message.files[0]["alt_txt"] == "A chart"
    assert emulator.workspace.files[file_id].content == png
    assert [c.method for c in emulator.calls if c.method.startswith(("files", "conv"))] == [
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
        "conversations.join",
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]
    assert gateway.find_file(channel="C0ESCAL", filename="digest-2026-11-23.png", since=before)
    assert not gateway.find_file(channel="C0ESCAL", filename="other.png", since=before)
    with pytest.raises(SlackFailure) as raised:
        gateway.upload_file(channel="C0NOPE", filename="a.png", content=png, title="a")
    assert raised.value.error == "channel_not_found"


def test_rate_limits_are_waited_out(gateway: SlackGateway, emulator: Emulator) -> None:
    emulator.fail_next("chat.postMessage", error="ratelimited", status=429)
    gateway.post(channel="C0GENERAL", text="hello")
    statuses = [c.status for c in emulator.calls_to("chat.postMessage")]
    assert statuses == [429, 200]


def test_server_errors_are_retried_until_slack_answers(
    gateway: SlackGateway, emulator: Emulator
) -> None:
    emulator.fail_next("chat.update", error="internal_error", status=503, times=10)
    with pytest.raises(SlackFailure) as raised:
        gateway.update(channel="C0GENERAL", ts="1.1", text="x")
    # Ten 503s waited out (not two); then Slack's real answer, which is not retried.
    assert [c.status for c in emulator.calls_to("chat.update")] == [503] * 10 + [200]
    assert raised.value.error == "message_not_found" and not raised.value.transient


def keyed(emulator: Emulator, channel: str, key: str) -> list[str]:
    """The ts of each message in ``channel`` (a user id: the DM with them) carrying ``key``."""
    found = emulator.dm_messages(channel) if channel.startswith("U") else emulator.messages(channel)
    return [
        m.ts for m in found if ((m.metadata or {}).get("event_payload") or {}).get("key") == key
    ]


@pytest.mark.parametrize("status", [DROP, 500])
@pytest.mark.parametrize("channel", ["U0ANA", "C0GENERAL"])
def test_a_keyed_post_slack_took_before_the_connection_failed_is_found_not_sent_again(
    gateway: SlackGateway, emulator: Emulator, status: int, channel: str
) -> None:
    # Slack posts the message, then the answer is lost (the connection drops, or a 5xx).
    emulator.faults.script("chat.postMessage", Failure("internal_error", status, apply=True), 1)
    ts = gateway.post(channel=channel, text="Heads-up", key="reminder:7:dm")
    assert keyed(emulator, channel, "reminder:7:dm") == [ts]
    assert len(emulator.calls_to("chat.postMessage")) == 1


@pytest.mark.parametrize("status", [DROP, 503])
def test_a_keyed_post_slack_never_took_is_sent_again(
    gateway: SlackGateway, emulator: Emulator, status: int
) -> None:
    emulator.faults.script("chat.postMessage", Failure("internal_error", status), 3)
    ts = gateway.post(channel="U0ANA", text="Heads-up", key="reminder:8:dm")
    assert keyed(emulator, "U0ANA", "reminder:8:dm") == [ts]
    assert [c.status for c in emulator.calls_to("chat.postMessage")] == [status] * 3 + [200]


def test_a_keyed_post_failing_past_the_retry_budget_is_reported_as_transient(
    emulator: Emulator,
) -> None:
    client = make_client(
        token="xoxb-sandbox",
        base_url=emulator.api_url,
        timeout=5,
        retry_for=60.0,
        time_source=FastRetryTime(),
    )
    emulator.faults.script("chat.postMessage", Failure("internal_error", DROP), 1000)
    with pytest.raises(SlackFailure) as raised:
        SlackGateway(client).post(channel="C0GENERAL", text="x", key="reminder:9:dm")
    assert raised.value.transient
    assert 45 <= raised.value.waited <= 60
    assert keyed(emulator, "C0GENERAL", "reminder:9:dm") == []


def test_server_errors_past_the_retry_budget_are_reported_as_transient(
    emulator: Emulator,
) -> None:
    client = make_client(
        token="xoxb-sandbox",
        base_url=emulator.api_url,
        timeout=5,
        retry_for=60.0,
        time_source=FastRetryTime(),
    )
    emulator.fail_next("chat.update", error="internal_error", status=503, times=1000)
    with pytest.raises(SlackFailure) as raised:
        SlackGateway(client).update(channel="C0GENERAL", ts="1.1", text="x")
    assert raised.value.transient and raised.value.error == "internal_error"
    assert 45 <= raised.value.waited <= 60
    assert 5 <= len(emulator.calls_to("chat.update")) < 20


def test_a_bad_token_is_reported_as_slack_says(emulator: Emulator) -> None:
    gateway = SlackGateway(make_client(token="xoxb-wrong", base_url=emulator.api_url))
    with pytest.raises(SlackFailure) as raised:
        gateway.post(channel="C0GENERAL", text="hi")
    assert raised.value.error == "invalid_auth"


def test_identity_and_lookups_are_asked_once_under_concurrency(
    gateway: SlackGateway, emulator: Emulator
) -> None:
    barrier = threading.Barrier(8)

    def ask() -> None:
        barrier.wait()
        assert gateway.bot_user_id == "U0BOT"
        assert gateway.is_external(user="U0CORA") is True
        assert gateway.is_external(user="U0ANA") is False

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(emulator.calls_to("auth.test")) == 1
    assert len(emulator.calls_to("users.info")) == 2


def test_who_someone_is_comes_from_users_info_and_team_info(
    gateway: SlackGateway, emulator: Emulator
) -> None:
    assert gateway.person(user="U0ANA") == Person(id="U0ANA", name="Ana Alvarez")
    assert gateway.person(user="U0GUS") == Person(id="U0GUS", name="Gus Guest", guest=True)
    cora = gateway.person(user="U0CORA")
    assert cora == Person(
        id="U0CORA", name="Cora Customer", external=True, organisation="Globex Corp"
    )
    assert not cora.is_teammate and not gateway.person(user="U0GUS").is_teammate
    # Someone Slack will not show us is not one of ours.
    assert gateway.person(user="U0NOBODY").external
    # A single-channel guest is a guest too; an organisation Slack won't name is still foreign.
    emulator.workspace.users["U0BEN"].is_ultra_restricted = True
    assert gateway.person(user="U0BEN").guest
    emulator.workspace.users["U0DANA"].team_id = "T0ELSEWHERE"
    dana = gateway.person(user="U0DANA")
    assert dana.external and dana.organisation is None
    emulator.clear_calls()
    for user in ("U0ANA", "U0GUS", "U0CORA", "U0NOBODY", "U0BEN", "U0DANA"):
        gateway.person(user=user)
    assert emulator.calls == []  # five minutes of cache


def test_a_time_zone_comes_from_the_same_cached_users_info(
    gateway: SlackGateway, emulator: Emulator
) -> None:
    emulator.workspace.users["U0ANA"].tz = "Asia/Jerusalem"
    assert gateway.person(user="U0ANA").is_teammate
    assert gateway.time_zone(user="U0ANA") == "Asia/Jerusalem"
    assert gateway.time_zone(user="U0DANA") == "America/Los_Angeles"
    # Checking a new owner and learning their zone is one call per person.
    assert len(emulator.calls_to("users.info")) == 2


def test_lookups_expire_so_changes_in_slack_are_seen() -> None:
    now = [0.0]
    cache = LookupCache(seconds=300, clock=lambda: now[0])
    answers = iter(["guest", "member"])
    assert cache.get("U0GUS", lambda: next(answers)) == "guest"
    now[0] = 299.0
    assert cache.get("U0GUS", lambda: next(answers)) == "guest"
    now[0] = 301.0
    assert cache.get("U0GUS", lambda: next(answers)) == "member"


def test_the_lookup_cache_is_bounded() -> None:
    cache = LookupCache(seconds=300, maxsize=3)
    for n in range(10):
        cache.get(n, lambda n=n: n)  # type: ignore[misc]
    computed: list[int] = []
    cache.get(0, lambda: computed.append(0) or 0)
    assert computed == [0]  # the oldest entries made room for the newest
