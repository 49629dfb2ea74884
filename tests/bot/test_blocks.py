"""Pure Block Kit builders: no Slack, no mocks; checked against Slack's limits."""

import json
from datetime import timedelta

from bot.blocks.card import commitment_blocks, crisis_card, nag_blocks
from bot.blocks.home import home_view
from bot.blocks.listing import list_blocks, status_blocks
from bot.blocks.modals import close_modal, declare_modal, hand_over_modal, update_modal
from bot.db.models import Acknowledgement, Crisis, TimelineEvent
from sandbox.blockkit import validate_blocks, validate_view
from tests.conftest import T0

HOSTILE = "<!channel> Acme <@U0BEN> & <!subteam^S1>"


def crisis(**fields: object) -> Crisis:
    values: dict[str, object] = dict(
        id=7,
        customer="Acme Corp",
        kind="service_outage",
        severity="sev1",
        experienced="Empty",
        expected="Live data",
        status="open",
        declared_by="U0ANA",
        owner_id="U0ANA",
        responders=["U0DANA"],
        cadence_seconds=1800,
        declared_at=T0,
        channel_id="C0CRISIS",
        next_update_due_at=T0 + timedelta(minutes=30),
    )
    values.update(fields)
    return Crisis(**values)


def mrkdwn_texts(blocks: object) -> list[str]:
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return found


def test_card_shows_what_the_customer_experienced_and_expected() -> None:
    blocks = crisis_card(crisis(), now=T0, ack_emoji="eyes")
    validate_blocks(blocks)
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Acme Corp · Service outage", "emoji": True},
    }
    fields = [f["text"] for f in blocks[1]["fields"]]
    assert fields[:4] == [
        "*Customer*\nAcme Corp",
        "*Severity*\n:red_circle: SEV1 · critical",
        "*Kind*\nService outage",
        "*Owner*\n<@U0ANA>",
    ]
    assert "*What the customer experienced*\nEmpty" in mrkdwn_texts(blocks)
    assert "Not acknowledged yet: react with :eyes:" in json.dumps(blocks)


def test_card_lists_acknowledgements_with_their_delay() -> None:
    c = crisis()
    c.acknowledgements = [
        Acknowledgement(user_id="U0BEN", at=T0 + timedelta(seconds=40), via="button"),
        Acknowledgement(user_id="U0CHEN", at=T0 + timedelta(minutes=3), via="reaction"),
    ]
    text = json.dumps(crisis_card(c, now=T0, ack_emoji="eyes"))
    assert "Acknowledged by <@U0BEN> in 40 s, <@U0CHEN> in 3 min" in text


def test_overdue_shows_even_while_snoozed() -> None:
    now = T0 + timedelta(minutes=40)
    c = crisis(snoozed_until=now + timedelta(minutes=10))
    text = json.dumps(crisis_card(c, now=now, ack_emoji="eyes"))
    assert "*Update overdue* since" in text and "reminders snoozed until" in text


def test_user_text_is_escaped_in_every_mrkdwn_field() -> None:
    c = crisis(customer=HOSTILE, experienced=HOSTILE, expected=HOSTILE)
    built = [
        crisis_card(c, now=T0, ack_emoji="eyes"),
        commitment_blocks(c, now=T0)[1],
        list_blocks([c], now=T0),
        status_blocks(c, now=T0, ack_emoji="eyes"),
        update_modal(crisis_id=7, customer=HOSTILE, cadence="30m")["blocks"],
        close_modal(crisis_id=7, customer=HOSTILE)["blocks"],
        hand_over_modal(crisis_id=7, customer=HOSTILE, channel_id="C0CRISIS")["blocks"],
    ]
    for blocks in built:
        for text in mrkdwn_texts(blocks):
            assert "<!channel>" not in text and "<@U0BEN>" not in text and "<!subteam" not in text


def test_commitment_uses_a_date_token_and_says_resolved_when_closed() -> None:
    text, blocks = commitment_blocks(crisis(), now=T0)
    assert f"<!date^{int((T0 + timedelta(minutes=30)).timestamp())}^" in text
    closed_text, _ = commitment_blocks(crisis(status="closed", closed_at=T0), now=T0)
    assert closed_text.startswith(":white_check_mark: *Resolved*")
    assert "questions" not in closed_text  # the channel is the team's, not the customer's
    validate_blocks(blocks)


def test_commitment_says_when_it_is_overdue() -> None:
    due = T0 + timedelta(minutes=30)
    text, blocks = commitment_blocks(crisis(), now=due)
    assert text.startswith(
        f":rotating_light: *Update to Acme Corp overdue since <!date^{int(due.timestamp())}^"
    )
    validate_blocks(blocks)
    assert commitment_blocks(crisis(), now=due - timedelta(seconds=1))[0].startswith(
        ":hourglass_flowing_sand: *Next update to Acme Corp by"
    )


def test_a_closed_card_no_longer_invites_acknowledgement() -> None:
    c = crisis(status="closed", closed_at=T0 + timedelta(hours=1))
    blocks = crisis_card(c, now=T0 + timedelta(hours=1), ack_emoji="eyes")
    validate_blocks(blocks)
    text = json.dumps(blocks)
    assert "crisis_ack" not in text and "Acknowledge" not in text and ":eyes:" not in text
    assert "Nobody acknowledged it before it closed." in mrkdwn_texts(blocks)
    c.acknowledgements = [Acknowledgement(user_id="U0BEN", at=T0, via="button")]
    text = json.dumps(crisis_card(c, now=T0 + timedelta(hours=1), ack_emoji="eyes"))
    assert "Acknowledged by <@U0BEN>" in text and "Acknowledge*" not in text


def test_nag_has_post_snooze_and_hand_over() -> None:
    blocks = nag_blocks(crisis(), "overdue", "Snooze 15m")
    validate_blocks(blocks)
    assert [(e["action_id"], e["value"]) for e in blocks[1]["elements"]] == [
        ("crisis_open_update", "7"),
        ("nag_snooze", "7"),
        ("nag_open_hand_over", "7"),
    ]


def test_modals_are_within_slacks_limits() -> None:
    for view in (
        declare_modal(user_id="U0ANA", origin_channel_id="C1", customer="x" * 500),
        update_modal(crisis_id=7, customer="x" * 500, cadence="1h30m"),
        close_modal(crisis_id=7, customer="x" * 500),
        hand_over_modal(crisis_id=7, customer="x" * 500, channel_id="C0CRISIS"),
    ):
        validate_view(view, types=("modal",))
        assert len(view["title"]["text"]) <= 24


def test_the_close_form_says_close_crisis_and_the_hand_over_form_names_the_crisis() -> None:
    close = close_modal(crisis_id=7, customer="Acme Corp")
    assert (close["submit"]["text"], close["close"]["text"]) == ("Close crisis", "Cancel")
    hand_over = hand_over_modal(crisis_id=7, customer="Acme Corp", channel_id="C0CRISIS")
    assert "Hand over the crisis for *Acme Corp* (<#C0CRISIS>)." in mrkdwn_texts(
        hand_over["blocks"]
    )
    assert hand_over["title"]["text"] == "Hand over the crisis"


def test_update_modal_offers_the_crisis_cadence_first() -> None:
    view = update_modal(crisis_id=7, customer="Acme", cadence="1h30m")
    select = next(b for b in view["blocks"] if b.get("block_id") == "next_in")["element"]
    assert select["initial_option"]["value"] == "1h30m"


def test_list_and_status_stay_within_50_blocks() -> None:
    many = [crisis(id=i, customer=f"Customer {i}") for i in range(80)]
    blocks = list_blocks(many, now=T0)
    validate_blocks(blocks)
    assert "…and 40 more." in mrkdwn_texts(blocks)
    c = crisis()
    c.timeline = [
        TimelineEvent(kind="nag_sent", at=T0, actor_id=None, detail="") for _ in range(200)
    ]
    status = status_blocks(c, now=T0, ack_emoji="eyes")
    validate_blocks(status)
    assert "Showing the last 30 of 200 events." in mrkdwn_texts(status)


def test_home_fits_in_a_home_tab_with_many_crises() -> None:
    many = [crisis(id=i, customer=f"Customer {i}", owner_id="U0BEN") for i in range(150)]
    view = home_view(user_id="U0ANA", open_crises=many, now=T0)
    validate_view(view, types=("home",))
    assert "…and 120 more: `/crisis list`." in mrkdwn_texts(view["blocks"])
