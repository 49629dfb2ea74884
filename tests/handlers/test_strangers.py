"""Nobody from another organisation, and no guest, gets inside a crisis.

cora (U0CORA) is the customer's contact at Globex Corp, a Slack Connect user; gus (U0GUS) is a
guest of our workspace. Every listener the app registers refuses them, and they can never be
made owner or responder, invited into a crisis channel or sent a crisis DM.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from slack_bolt import App
from sqlalchemy import func, select

from bot.db.models import Base, Crisis
from bot.parsing import ANYWHERE_COMMANDS, CHANNEL_COMMANDS
from sandbox import Emulator
from tests.harness import Answer, Bot

CORA, GUS = "U0CORA", "U0GUS"
OUTSIDERS = [
    pytest.param(CORA, "for the team running the crisis", id="another-organisation"),
    pytest.param(GUS, "guests can't use them", id="guest"),
]
# What each subcommand is given, so it would do something if it were let through.
ARGUMENTS = {
    "new": "Globex: we are down sev1",
    "update": "All fine now",
    "close": "Fixed",
    "owner": f"<@{CORA}|cora>",
    "every": "2h",
    "add": f"<@{CORA}|cora>",
    "remove": "<@U0CHEN|chen>",
    "severity": "sev1",
    "kind": "billing_financial",
    "reopen": "It came back",
}
# Every field of every form, so a submission would be valid if it were let through.
FORM_VALUES: dict[str, Any] = {
    "customer": {"type": "plain_text_input", "value": "Globex"},
    "experienced": {"type": "plain_text_input", "value": "We are down"},
    "severity": {"type": "static_select", "selected_option": {"value": "sev1"}},
    "owner": {"type": "users_select", "selected_user": CORA},
    "responders": {"type": "multi_users_select", "selected_users": [CORA]},
    "what_happened": {"type": "plain_text_input", "value": "All fine"},
    "doing": {"type": "plain_text_input", "value": "Nothing"},
    "next_in": {"type": "plain_text_input", "value": "1h"},
    "resolution": {"type": "plain_text_input", "value": "Fixed"},
    "confirmed": {"type": "radio_buttons", "selected_option": {"value": "yes"}},
}
# Reading who someone is (and their organisation) is all the refusal may cost.
LOOKUPS = {"users.info", "team.info"}


def declare(bot: Bot, **fields: Any) -> Answer:
    """ana submits the declare form, with ``fields`` over a valid form."""
    bot.command("new", channel="C0GENERAL")
    view = bot.emulator.open_views("U0ANA")[-1].view
    values = {
        "customer": {"type": "plain_text_input", "value": "Acme Corp"},
        "experienced": {"type": "plain_text_input", "value": "Dashboards empty"},
        "severity": {"type": "static_select", "selected_option": {"value": "sev1"}},
        "owner": {"type": "users_select", "selected_user": "U0ANA"},
        "responders": {"type": "multi_users_select", "selected_users": ["U0CHEN"]},
        **fields,
    }
    return bot.submit(view, values)


@pytest.fixture
def crisis(bot: Bot, emulator: Emulator) -> Crisis:
    """ana's crisis, chen responding; cora and gus can see its channel (it was shared)."""
    declare(bot)
    with bot.deps.session_factory() as session:
        found = session.scalars(select(Crisis)).one()
    assert found.channel_id and found.card_ts
    emulator.workspace.channels[found.channel_id].members |= {CORA, GUS}
    return found


def row_counts(bot: Bot) -> dict[str, int]:
    with bot.deps.session_factory() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


def listeners(app: App) -> list[tuple[str, str]]:
    """(kind, what it listens to) for every listener registered on the app, read from Bolt's
    own matchers, so a listener added later is walked too."""
    found = []
    for listener in app._listeners:
        matcher = listener.matchers[0].func
        kind = matcher.__qualname__.split(".")[0]
        cells = dict(zip(matcher.__code__.co_freevars, matcher.__closure__ or (), strict=True))
        (constraint,) = (c.cell_contents for c in cells.values())
        assert isinstance(constraint, str), f"teach this test the listener {kind} {constraint!r}"
        found.append((kind, constraint))
    return found


def requests_for(
    bot: Bot, crisis: Crisis, kind: str, constraint: str, user: str
) -> list[tuple[str, Callable[[], Answer]]]:
    """Requests as ``user`` that reach the listener (kind, constraint), each with a label."""
    channel, card = crisis.channel_id or "", crisis.card_ts or ""
    if kind == "command":
        assert constraint == "/crisis"
        out = [("/crisis", lambda: bot.command("", user=user, channel="C0SHARED"))]
        for name in (*ANYWHERE_COMMANDS, *CHANNEL_COMMANDS):
            text = f"{name} {ARGUMENTS.get(name, '')}".strip()
            for where in (channel, "C0SHARED") if name in ANYWHERE_COMMANDS else (channel,):
                out.append(
                    (
                        f"/crisis {text} in {where}",
                        lambda t=text, w=where: bot.command(t, user=user, channel=w),
                    )
                )
        return out
    if kind == "action":
        return [
            (
                f"button {constraint}",
                lambda: bot.click(
                    constraint, str(crisis.id), user=user, channel=channel, message_ts=card
                ),
            )
        ]
    if kind == "view_submission":
        view = {
            "type": "modal",
            "callback_id": constraint,
            "private_metadata": json.dumps({"crisis_id": crisis.id, "origin_channel_id": channel}),
            "blocks": [],
        }
        return [(f"form {constraint}", lambda: bot.submit(view, FORM_VALUES, user=user))]
    if kind == "event":
        if constraint == "reaction_added":
            settings = bot.deps.settings
            return [
                (
                    f"reaction {emoji}",
                    lambda e=emoji: bot.react(e, user=user, channel=channel, ts=card),
                )
                for emoji in (settings.ack_emoji, settings.update_emoji)
            ]
        event = {"type": constraint, "user": user, "channel": channel, "tab": "home"}
        return [(f"event {constraint}", lambda: bot.event(event))]
    if kind == "options":
        # ana's declare form, and the outsider typing in its type-ahead.
        bot.command("new", channel="C0GENERAL")
        view_id = bot.emulator.open_views("U0ANA")[-1].id
        return [
            (
                f"options {constraint}",
                lambda: bot.suggest(view_id, "Glo", action_id=constraint, user=user),
            )
        ]
    raise AssertionError(f"teach this test how to reach a {kind} listener ({constraint})")


def assert_refused(answer: Answer, kind: str, refusal: str, replies: list[Any]) -> None:
    """The refusal: in the ack, on the form, privately in reply to a button; for an event,
    nothing at all. ``replies`` are what reached the person through a response_url."""
    assert answer.status == 200
    if kind == "command":
        assert refusal in answer.text  # in the acknowledgement itself
    elif kind == "view_submission":
        body = answer.json()
        assert body["response_action"] == "errors"
        assert any(refusal in error for error in body["errors"].values())
    elif kind == "options":
        assert answer.json() == {"options": []}  # no account names for them
    elif kind == "action":
        (told,) = replies
        assert refusal in told.text and not told.replace_original
        return
    else:
        assert answer.body == ""  # an event is dropped
    assert replies == []


@pytest.mark.parametrize(("user", "refusal"), OUTSIDERS)
def test_every_listener_refuses_them_and_changes_nothing(
    bot: Bot, emulator: Emulator, crisis: Crisis, user: str, refusal: str
) -> None:
    walked = listeners(bot.app)
    kinds = {kind for kind, _ in walked}
    assert {"command", "action", "view_submission", "event"} <= kinds
    before = row_counts(bot)
    for kind, constraint in walked:
        for label, send in requests_for(bot, crisis, kind, constraint, user):
            emulator.clear_calls()
            seen = len(emulator.response_posts)
            answer = send()
            writes = [c.method for c in emulator.calls if c.method not in LOOKUPS]
            assert writes == [], f"{label}: {writes}"
            assert row_counts(bot) == before, label
            replies = emulator.response_posts[seen:]
            assert all(reply.user == user for reply in replies), label
            assert_refused(answer, kind, refusal, replies)
    assert emulator.open_views(user) == []
    with bot.deps.session_factory() as session:
        assert session.scalars(select(Crisis)).one().acknowledgements == []


def test_the_refusal_costs_one_lookup_per_person(bot: Bot, emulator: Emulator) -> None:
    emulator.clear_calls()
    for _ in range(3):
        bot.command("list", user=CORA, channel="C0SHARED")
        bot.command("list", user=GUS, channel="C0GENERAL")
    looked_up = [c.args.get("user") or c.args.get("team") for c in emulator.calls]
    assert all(c.method in LOOKUPS for c in emulator.calls)
    assert sorted(looked_up) == sorted([CORA, "T0CUSTOMER", GUS])


def test_an_external_new_is_refused_in_the_acknowledgement(bot: Bot, emulator: Emulator) -> None:
    answer = bot.command("new Globex: we are down sev1", user=CORA, channel="C0SHARED")
    assert answer.text.startswith(":lock: crisisbot's commands are for the team")
    assert "Declaring" not in answer.text
    assert emulator.calls_to("conversations.create") == []
    assert emulator.response_posts == []  # nothing follows the refusal


def test_a_flaky_slack_before_the_ack_is_told_in_the_ack_not_retried_for_minutes(
    bot: Bot, emulator: Emulator
) -> None:
    # Who is asking cannot be checked while Slack answers 503: the request is refused in
    # its acknowledgement after a short retry, not held for CRISISBOT_SLACK_RETRY_FOR.
    emulator.fail_next("users.info", "service_unavailable", status=503, times=10_000)
    answer = bot.command("new Globex: we are down sev1", user="U0BEN")
    assert answer.text.startswith(":warning: I couldn't check with Slack who you are")
    # A second and a half of backoff (on the harness's fast retry clock): a few tries, no more.
    assert 2 <= len(emulator.calls_to("users.info")) <= 5
    assert emulator.calls_to("conversations.create") == []


def test_the_declare_form_refuses_cora_as_owner_naming_her_organisation(
    bot: Bot, emulator: Emulator
) -> None:
    answer = declare(bot, owner={"type": "users_select", "selected_user": CORA})
    assert answer.json() == {
        "response_action": "errors",
        "errors": {"owner": "Cora Customer is from Globex Corp: only your team can own a crisis."},
    }
    assert emulator.calls_to("conversations.create") == []
    assert row_counts(bot)["crises"] == 0


def test_the_declare_form_refuses_outsiders_as_responders(bot: Bot, emulator: Emulator) -> None:
    answer = declare(
        bot,
        responders={"type": "multi_users_select", "selected_users": ["U0CHEN", CORA, GUS]},
    )
    assert answer.json() == {
        "response_action": "errors",
        "errors": {
            "responders": "Cora Customer is from Globex Corp: only your team can respond to a"
            " crisis. Gus Guest is a guest: only your team can respond to a crisis."
        },
    }
    assert emulator.calls_to("conversations.create") == []
    assert row_counts(bot)["crises"] == 0


def test_the_hand_over_form_refuses_cora(bot: Bot, emulator: Emulator, crisis: Crisis) -> None:
    bot.click("nag_open_hand_over", str(crisis.id), user="U0ANA", channel="U0ANA")
    view = emulator.open_views("U0ANA")[-1].view
    emulator.clear_calls()
    answer = bot.submit(view, {"owner": {"type": "users_select", "selected_user": CORA}})
    assert answer.json() == {
        "response_action": "errors",
        "errors": {"owner": "Cora Customer is from Globex Corp: only your team can own a crisis."},
    }
    assert [c.method for c in emulator.calls if c.method not in LOOKUPS] == []
    with bot.deps.session_factory() as session:
        assert session.scalars(select(Crisis)).one().owner_id == "U0ANA"


def test_crisis_owner_refuses_cora_privately(bot: Bot, emulator: Emulator) -> None:
    declare(bot)
    with bot.deps.session_factory() as session:
        channel = session.scalars(select(Crisis)).one().channel_id or ""
    emulator.clear_calls()
    bot.command(f"owner <@{CORA}|cora>", user="U0ANA", channel=channel)
    (told,) = [p for p in emulator.response_posts if p.user == "U0ANA"]
    assert told.response_type == "ephemeral"
    assert "Cora Customer is from Globex Corp: only your team can own a crisis." in told.text
    assert [c.method for c in emulator.calls if c.method not in LOOKUPS] == []
    assert CORA not in emulator.workspace.channels[channel].members
    assert not emulator.workspace.channels[channel].is_ext_shared
    with bot.deps.session_factory() as session:
        assert session.scalars(select(Crisis)).one().owner_id == "U0ANA"


@pytest.mark.parametrize(
    ("outsider", "refusal"),
    [
        (CORA, "Cora Customer is from Globex Corp: only your team can respond to a crisis."),
        (GUS, "Gus Guest is a guest: only your team can respond to a crisis."),
    ],
)
def test_crisis_add_refuses_outsiders_as_responders(
    bot: Bot, emulator: Emulator, outsider: str, refusal: str
) -> None:
    declare(bot)
    with bot.deps.session_factory() as session:
        channel = session.scalars(select(Crisis)).one().channel_id or ""
    emulator.clear_calls()
    bot.command(f"add <@{outsider}>", user="U0ANA", channel=channel)
    (told,) = [p for p in emulator.response_posts if p.user == "U0ANA"]
    assert refusal in told.text
    assert [c.method for c in emulator.calls if c.method not in LOOKUPS] == []
    assert outsider not in emulator.workspace.channels[channel].members
    with bot.deps.session_factory() as session:
        assert outsider not in session.scalars(select(Crisis)).one().responders


def test_the_gateway_never_invites_or_dms_them(bot: Bot, emulator: Emulator) -> None:
    """The last line of defence, whatever a caller forgot to check."""
    slack = bot.deps.slack
    channel_id, _ = slack.create_channel(name="crisis-test")
    slack.invite(channel=channel_id, users=[CORA, GUS, "U0BEN"])
    assert [c.args["users"] for c in emulator.calls_to("conversations.invite")] == ["U0BEN"]
    assert emulator.workspace.channels[channel_id].is_ext_shared is False
    assert slack.dm(user=CORA, text="You own the crisis") == ""
    assert slack.dm(user=GUS, text="You own the crisis") == ""
    assert emulator.calls_to("chat.postMessage") == []


def test_a_crisis_an_outsider_already_owns_sends_them_no_reminder(
    bot: Bot, emulator: Emulator
) -> None:
    """A crisis handed to cora before this check existed: her reminders are never sent."""
    declare(bot)
    with bot.deps.session_factory() as session:
        crisis = session.scalars(select(Crisis)).one()
        crisis.owner_id = CORA
        session.commit()
    emulator.clear_calls()
    bot.clock.advance(minutes=25)
    bot.sweep()  # the heads-up
    bot.clock.advance(minutes=10)
    bot.sweep()  # overdue
    assert [c for c in emulator.calls_to("chat.postMessage") if c.args["channel"] == CORA] == []
    assert emulator.calls_to("conversations.open") == []


def test_a_listener_added_later_is_guarded_without_doing_anything(
    bot: Bot, emulator: Emulator
) -> None:
    reached: list[str] = []

    @bot.app.action("someone_elses_new_button")
    def handle(ack: Any, body: dict[str, Any]) -> None:
        ack()
        reached.append(body["user"]["id"])

    for user in (CORA, GUS, "U0BEN"):
        bot.click("someone_elses_new_button", "1", user=user, channel="C0GENERAL")
    assert reached == ["U0BEN"]
    refused = {p.user for p in emulator.response_posts}
    assert refused == {CORA, GUS}
