from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.parsing import UsageError, parse


def test_bare_and_new_open_the_modal() -> None:
    assert parse("").name == "new" and parse("").customer == ""
    assert parse("new").customer == ""


def test_new_declares_at_once_with_severity_defaulting_to_sev2() -> None:
    command = parse("new Acme Corp: dashboards empty since 09:10")
    assert (command.customer, command.text, command.severity) == (
        "Acme Corp",
        "dashboards empty since 09:10",
        "sev2",
    )
    assert parse("new Acme: down SEV1").severity == "sev1"
    assert parse("new Acme: down [sev3]").severity == "sev3"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("new Acme is down", "Put a colon after the customer's name."),
        ("new : down", "Name the customer before the colon."),
        ("new Acme:", "Say what happened"),
        ("update", "Say what changed"),
        ("close", "Say how it was resolved"),
        ("owner @ana", "Mention the new owner"),
        ("every soon", "'soon' is not a duration"),
        ("every", "Say how often"),
        ("dance", "I don't know `dance`"),
    ],
)
def test_bad_input_says_what_was_wrong_and_the_right_usage(text: str, says: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse(text)
    message = str(raised.value)
    assert says in message
    assert "/crisis" in message


def test_owner_takes_an_escaped_mention() -> None:
    assert parse("owner <@U0BEN|ben>").user_id == "U0BEN"
    assert parse("owner <@U0BEN>").user_id == "U0BEN"


def test_every_takes_a_duration() -> None:
    assert parse("every 45m").every == timedelta(minutes=45)
    assert parse("EVERY 2h").every == timedelta(hours=2)


def test_channel_commands_are_marked() -> None:
    assert parse("update found it").needs_crisis_channel
    assert not parse("list").needs_crisis_channel


def test_unknown_word_is_escaped_in_the_reply() -> None:
    with pytest.raises(UsageError) as raised:
        parse("<!channel> hi")
    assert "<!channel>" not in str(raised.value)


@given(st.text(max_size=300))
def test_any_text_is_a_command_or_a_clear_usage_error(text: str) -> None:
    try:
        command = parse(text)
    except UsageError as error:
        assert "/crisis" in str(error)
    else:
        assert command.name in {
            "new",
            "update",
            "close",
            "owner",
            "add",
            "remove",
            "every",
            "severity",
            "kind",
            "ack",
            "status",
            "reopen",
            "list",
            "help",
        }
        if command.name == "new" and command.customer:
            assert command.text and len(command.customer) <= 200


def test_text_arrives_escaped_with_tokens_and_is_kept_as_typed() -> None:
    command = parse("new AT&amp;T: <@U0BEN|ben> saw &lt;!channel&gt; in <#C1|general> sev1")
    assert command.customer == "AT&T"
    assert command.text == "@ben saw <!channel> in #general"
    assert parse("update see <https://status.example.com|the status page>").text == (
        "see the status page (https://status.example.com)"
    )
    assert parse("update <!subteam^S1|@oncall> is on it").text == "@oncall is on it"
