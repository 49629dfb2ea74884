"""Declaring through /crisis and the modal, against the emulator over real HTTP."""

import json

from sandbox import Emulator
from tests.harness import Bot, sign


def replies(emulator: Emulator, user: str = "U0ANA") -> list[str]:
    """What the user saw privately: response_url answers and ephemerals, oldest first."""
    texts = [p.text for p in emulator.response_posts if p.user == user]
    return texts + [e.text for e in emulator.ephemerals(user)]


def rendered_texts(args: dict) -> list[str]:
    """Texts Slack parses for mentions: the top-level text and every mrkdwn object."""
    found = [str(args.get("text", ""))]

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(str(node.get("text", "")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    blocks = args.get("blocks")
    walk(json.loads(blocks) if isinstance(blocks, str) else blocks)
    return found


def test_a_bad_signature_gets_401_and_changes_nothing(bot: Bot) -> None:
    body = "command=%2Fcrisis&text=new+Acme%3A+down&user_id=U0ANA&channel_id=C0GENERAL"
    answer = bot.post(
        body, "application/x-www-form-urlencoded", sign(body, secret="not-the-secret")
    )
    assert answer.status == 401
    assert bot.emulator.calls_to("conversations.create") == []


def test_new_declares_opens_the_channel_and_pins_the_commitment(
    bot: Bot, emulator: Emulator
) -> None:
    answer = bot.command("new Acme Corp: dashboards empty since 09:10 sev1")
    assert answer.status == 200
    assert "Declaring a crisis for *Acme Corp*" in answer.text

    channel = emulator.channel_by_name("crisis-20261122-acme-corp")
    assert channel is not None
    assert channel.topic.value.startswith(
        "Acme Corp · SEV1 · owner <@U0ANA> · next update 14:30 UTC"
    )
    assert "U0ANA" in channel.members
    card, commitment = emulator.messages(channel.id)[:2]
    assert card.blocks[0]["text"]["text"] == "Acme Corp · Kind not set yet"
    assert "*Kind*\nNot set yet" in [f["text"] for f in card.blocks[1]["fields"]]
    assert "dashboards empty since 09:10" in json.dumps(card.blocks)
    assert [e["action_id"] for e in card.blocks[-1]["elements"]] == [
        "crisis_ack",
        "crisis_open_update",
        "crisis_open_close",
    ]
    assert "*Next update to Acme Corp by <!date^" in commitment.text
    assert [m.ts for m in emulator.pins(channel.id)] == [commitment.ts]
    # Ana declared it and owns it: the reply is her brief, and no DM says it all again.
    reply = next(text for text in replies(emulator) if f"declared in <#{channel.id}>" in text)
    assert "I will remind you 10m before it is due." in reply
    assert "Listen first" in reply
    assert emulator.dm_messages("U0ANA") == []


def test_a_taken_name_gets_a_suffix(bot: Bot, emulator: Emulator) -> None:
    # Different names (the same name asks first; see test_second_crisis.py), the same slug.
    bot.command("new Acme: first outage")
    bot.command("new Acme!: second outage")
    bot.command("new Acme?: third outage")
    names = sorted(
        c.name for c in emulator.workspace.channels.values() if c.name.startswith("crisis")
    )
    assert names == ["crisis-20261122-acme", "crisis-20261122-acme-2", "crisis-20261122-acme-3"]
    errors = [c.error for c in emulator.calls_to("conversations.create") if not c.ok]
    assert errors == ["name_taken"] * 3


def test_user_text_never_pings_anyone(bot: Bot, emulator: Emulator) -> None:
    # Typed literally, Slack sends angle brackets escaped; they must never turn into pings.
    bot.command("new &lt;!everyone&gt; Corp: &lt;!channel&gt; it is &lt;@U0BEN&gt; down sev2")
    posted = [c.args for c in emulator.calls_to("chat.postMessage") if c.ok]
    said = [{"text": r.text, "blocks": r.blocks} for r in emulator.response_posts]
    assert len(posted) == 2 and len(said) == 1  # the card, the commitment; the reply
    for call in posted + said:
        for text in rendered_texts(call):
            assert "<!channel>" not in text and "<!everyone>" not in text
            assert "<@U0BEN>" not in text
    topic = emulator.calls_to("conversations.setTopic")[0].args["topic"]
    assert "<!everyone>" not in topic
    channel = next(c for c in emulator.workspace.channels.values() if c.name.startswith("crisis"))
    for command in ("status", "list"):
        bot.command(command, channel=channel.id)
        reply = emulator.response_posts[-1]
        for text in rendered_texts({"text": reply.text, "blocks": reply.blocks}):
            assert "<!channel>" not in text and "<!everyone>" not in text


def test_new_alone_opens_the_declare_modal(bot: Bot, emulator: Emulator) -> None:
    answer = bot.command("new")
    assert answer.status == 200
    views = emulator.open_views("U0ANA")
    assert views and views[-1].view["callback_id"] == "declare_crisis"
    labels = [b["label"]["text"] for b in views[-1].view["blocks"] if b["type"] == "input"]
    assert labels == [
        "Customer",
        "What the customer experienced",
        "What they expected",
        "Kind of crisis",
        "Severity",
        "Owner",
        "Responders",
    ]


def test_modal_submission_declares_with_owner_and_responders(bot: Bot, emulator: Emulator) -> None:
    bot.command("new", channel="C0CRISES")
    view = emulator.open_views("U0ANA")[-1].view
    answer = bot.submit(
        view,
        {
            "customer": {"type": "plain_text_input", "value": "Globex"},
            "experienced": {"type": "plain_text_input", "value": "Invoices doubled"},
            "expected": {"type": "plain_text_input", "value": "One invoice a month"},
            "kind": {"type": "static_select", "selected_option": {"value": "billing_financial"}},
            "severity": {"type": "static_select", "selected_option": {"value": "sev3"}},
            "owner": {"type": "users_select", "selected_user": "U0BEN"},
            "responders": {"type": "multi_users_select", "selected_users": ["U0CHEN", "U0DANA"]},
        },
    )
    assert answer.status == 200
    channel = emulator.channel_by_name("crisis-20261122-globex")
    assert channel is not None
    assert {"U0BEN", "U0CHEN", "U0DANA"} <= channel.members
    card = emulator.messages(channel.id)[0]
    assert card.blocks[0]["text"]["text"] == "Globex · Billing or financial"
    assert "Invoices doubled" in json.dumps(card.blocks) and "One invoice a month" in json.dumps(
        card.blocks
    )
    # Ana, who declared it, is in the channel too.
    assert "U0ANA" in channel.members
    # Ben owns what Ana declared: he is told by DM, she by an ephemeral without his brief.
    (dm,) = emulator.dm_messages("U0BEN")
    assert dm.text.startswith(
        f":rotating_light: <@U0ANA> declared a crisis for *Globex* (<#{channel.id}>) and named"
        " you owner; Globex has been promised an update by <!date^"
    )
    assert "I will remind you" in dm.text
    (told,) = [e.text for e in emulator.ephemerals("U0ANA", "C0CRISES") if "declared in" in e.text]
    assert "<@U0BEN> owns it and has been told; Globex has been promised an update by" in told
    assert "You have promised" not in told and "I will remind you" not in told
    assert emulator.dm_messages("U0ANA") == []


def test_modal_errors_show_next_to_the_field(bot: Bot, emulator: Emulator) -> None:
    bot.command("new")
    view = emulator.open_views("U0ANA")[-1].view
    answer = bot.submit(
        view,
        {
            "customer": {"type": "plain_text_input", "value": "   "},
            "experienced": {"type": "plain_text_input", "value": "x"},
            "severity": {"type": "static_select", "selected_option": {"value": "sev2"}},
            "owner": {"type": "users_select", "selected_user": "U0ANA"},
        },
    )
    assert answer.json() == {
        "response_action": "errors",
        "errors": {"customer": "Customer is required."},
    }
    assert emulator.calls_to("conversations.create") == []


def test_the_form_reports_every_invalid_field_at_once(bot: Bot, emulator: Emulator) -> None:
    bot.command("new")
    view = emulator.open_views("U0ANA")[-1].view
    answer = bot.submit(
        view,
        {
            "customer": {"type": "plain_text_input", "value": "   "},
            "experienced": {"type": "plain_text_input", "value": ""},
            "expected": {"type": "plain_text_input", "value": "e" * 3001},
            "severity": {"type": "static_select", "selected_option": {"value": "sev2"}},
            "owner": {"type": "users_select", "selected_user": "U0ANA"},
        },
    )
    assert answer.json() == {
        "response_action": "errors",
        "errors": {
            "customer": "Customer is required.",
            "experienced": "Write what the customer experienced, in their words.",
            "expected": "What they expected is 3,001 characters; Slack shows at most 2,900 in"
            " one block. Shorten it, or post the detail as a message in the crisis channel.",
        },
    }
    assert emulator.calls_to("conversations.create") == []


def test_the_form_marks_optional_fields_and_lets_slack_enforce_the_limits(
    bot: Bot, emulator: Emulator
) -> None:
    bot.command("new")
    inputs = {
        b["block_id"]: b
        for b in emulator.open_views("U0ANA")[-1].view["blocks"]
        if b["type"] == "input"
    }
    optional = sorted(block_id for block_id, b in inputs.items() if b["optional"])
    # An empty owner is the account's CSM, or the declarer.
    assert optional == ["expected", "kind", "owner", "responders"]
    limits = {
        block_id: b["element"]["max_length"]
        for block_id, b in inputs.items()
        if b["element"]["type"] == "plain_text_input"
    }
    # The customer is a type-ahead; a new name too long is refused on submission.
    assert limits == {"experienced": 2900, "expected": 2900}
    assert inputs["customer"]["element"]["type"] == "external_select"


def test_the_optional_fields_may_be_left_empty(bot: Bot, emulator: Emulator) -> None:
    bot.command("new", channel="C0CRISES")
    view = emulator.open_views("U0ANA")[-1].view
    answer = bot.submit(
        view,
        {
            "customer": {"type": "plain_text_input", "value": "Hooli"},
            "experienced": {"type": "plain_text_input", "value": "Search is slow"},
            "expected": {"type": "plain_text_input", "value": None},
            "kind": {"type": "static_select", "selected_option": None},
            "severity": {"type": "static_select", "selected_option": {"value": "sev3"}},
            "owner": {"type": "users_select", "selected_user": "U0ANA"},
            "responders": {"type": "multi_users_select", "selected_users": []},
        },
    )
    assert answer.status == 200 and answer.body == ""
    channel = emulator.channel_by_name("crisis-20261122-hooli")
    assert channel is not None
    card = emulator.messages(channel.id)[0]
    assert card.blocks[0]["text"]["text"] == "Hooli · Kind not set yet"


def test_question_is_not_a_crisis(bot: Bot, emulator: Emulator) -> None:
    bot.command("new", channel="C0CRISES")
    view = emulator.open_views("U0ANA")[-1].view
    bot.submit(
        view,
        {
            "customer": {"type": "plain_text_input", "value": "Initech"},
            "experienced": {"type": "plain_text_input", "value": "How do I export?"},
            "kind": {"type": "static_select", "selected_option": {"value": "question"}},
            "severity": {"type": "static_select", "selected_option": {"value": "sev4"}},
            "owner": {"type": "users_select", "selected_user": "U0ANA"},
        },
    )
    assert emulator.calls_to("conversations.create") == []
    told = emulator.ephemerals("U0ANA", "C0CRISES")[-1].text
    assert "rather than a crisis" in told and "https://help.example.com" in told


def test_slack_is_asked_who_the_bot_is_once_and_each_declarer_once(
    bot: Bot, emulator: Emulator
) -> None:
    for customer in ("Acme", "Globex", "Initech"):
        assert bot.command(f"new {customer}: checkout fails").status == 200
    assert bot.command("new Umbrella: checkout fails", user="U0BEN").status == 200
    # Bolt's auth.test at start tells the gateway the bot's workspace too (is_external needs it).
    assert len(emulator.calls_to("auth.test")) == 1
    assert [c.args["user"] for c in emulator.calls_to("users.info")] == ["U0ANA", "U0BEN"]
    assert len(emulator.calls_to("conversations.create")) == 4


def test_the_topic_is_in_the_teams_time_zone_and_says_when_it_closed(
    bot: Bot, emulator: Emulator
) -> None:
    bot.deps.settings.timezone = "Europe/Berlin"
    bot.command("new Acme Corp: dashboards empty sev1")
    channel = emulator.channel_by_name("crisis-20261122-acme-corp")
    assert channel is not None
    assert channel.topic.value == "Acme Corp · SEV1 · owner <@U0ANA> · next update 15:30 CET Nov 22"
    bot.clock.advance(hours=2)
    bot.command("close Ingest fixed", channel=channel.id)
    topics = [c.args["topic"] for c in emulator.calls_to("conversations.setTopic")]
    assert topics[-1] == "Acme Corp · SEV1 · owner <@U0ANA> · closed at 17:00 CET Nov 22"
