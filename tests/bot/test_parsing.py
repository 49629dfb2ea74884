from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import parsing
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


@pytest.mark.parametrize("word", ["sev5", "sev0", "SEV9", "[sev7]", "sev 5", "sev-12"])
def test_a_severity_that_does_not_exist_is_refused_with_the_valid_ones(word: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse(f"new Acme: dashboards empty {word}")
    message = str(raised.value)
    assert "is not a severity" in message
    assert "`sev1`, `sev2`, `sev3`, `sev4`" in message


@pytest.mark.parametrize(
    ("word", "severity"),
    [("SEV-1", "sev1"), ("sev 3", "sev3"), ("Sev_4", "sev4"), ("severity 2", "sev2")],
)
def test_other_spellings_of_a_severity_are_understood(word: str, severity: str) -> None:
    command = parse(f"new Acme: dashboards empty {word}")
    assert (command.text, command.severity) == ("dashboards empty", severity)


def test_words_that_only_look_a_little_like_a_severity_stay_in_the_summary() -> None:
    assert parse("new Acme: the S3 bucket is gone").text == "the S3 bucket is gone"
    assert parse("new Acme: the seven dashboards").text == "the seven dashboards"


@pytest.mark.parametrize(
    ("typed", "meant"), [("nwe", "new"), ("upate", "update"), ("CLSOE", "close"), ("lsit", "list")]
)
def test_a_typo_gets_a_suggestion(typed: str, meant: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse(f"{typed} Acme: down")
    assert str(raised.value).startswith(
        f":warning: I don't know `{typed.lower()}`. Did you mean `/crisis {meant}`?"
    )


def test_suggestions_come_from_the_parsers_own_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsing, "CHANNEL_COMMANDS", (*parsing.CHANNEL_COMMANDS, "severity"))
    assert parsing.closest_subcommand("severty") == "severity"


def test_nothing_close_lists_a_few_commands() -> None:
    with pytest.raises(UsageError) as raised:
        parse("dance")
    assert "Did you mean" not in str(raised.value)
    assert "`/crisis new`" in str(raised.value) and "`/crisis help`" in str(raised.value)


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
