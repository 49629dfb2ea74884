"""The crisis lifecycle without Slack: rows stored, effects asked of the Slack port."""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db.models import Acknowledgement, Crisis, TimelineEvent
from bot.db.session import SessionFactory
from bot.services import crises, lifecycle
from bot.services.errors import CrisisError
from bot.services.port import SlackFailure
from bot.services.requests import UpdateContent, declare_request
from bot.services.scope import Scope
from tests.conftest import T0, Clock
from tests.fakes import RecordingSlack

# Every database test here runs on SQLite and on a real PostgreSQL.
BOTH_DATABASES = True


def declare(
    session_factory: SessionFactory, slack: RecordingSlack, settings: Settings, **overrides: object
) -> int:
    values: dict[str, object] = {
        "customer": "Acme Corp",
        "experienced": "Dashboards empty since 09:10",
        "expected": "Live data",
        "kind": "service_outage",
        "severity": "sev1",
        "declared_by": "U0ANA",
        "owner_id": "U0ANA",
        "responders": ["U0BEN", "U0CHEN"],
    }
    values.update(overrides)
    with session_factory() as session:
        crisis = crises.declare(
            Scope(session, slack, settings, T0), request=declare_request(**values)
        )
        return crisis.id


def kinds(session_factory: SessionFactory, crisis_id: int) -> list[str]:
    with session_factory() as session:
        return list(
            session.scalars(
                select(TimelineEvent.kind)
                .where(TimelineEvent.crisis_id == crisis_id)
                .order_by(TimelineEvent.id)
            )
        )


def test_declare_stores_first_then_sets_up_the_channel(
    session_factory: SessionFactory, settings: Settings
) -> None:
    slack = RecordingSlack()
    crisis_id = declare(session_factory, slack, settings)
    assert [(e.name, e.args.get("key")) for e in slack.effects] == [
        ("create_channel", None),
        ("set_topic", None),
        ("invite", None),
        ("post", "crisis:1:owner"),  # the owner's DM first: it never queues behind the rest
        ("post", "crisis:1:card"),
        ("post", "crisis:1:commitment"),
        ("pin", None),
    ]
    assert slack.effects[0].args["name"] == "crisis-20261122-acme-corp"
    assert slack.effects[2].args["users"] == ["U0ANA", "U0BEN", "U0CHEN"]
    assert slack.effects[3].args["channel"] == "U0ANA"  # a DM to the owner
    commitment = slack.effects[5].args["text"]
    assert "Next update to Acme Corp by <!date^" in commitment
    assert slack.effects[6].args["ts"] == "1700000000.000003"  # the commitment is pinned
    with session_factory() as session:
        crisis = session.get(Crisis, crisis_id)
        assert crisis is not None
        assert crisis.status == "open" and crisis.commitment_pinned
        assert crisis.next_update_due_at == T0 + settings.cadence_sev1
        assert crisis.next_check_at == T0 + settings.cadence_sev1 - settings.reminder_lead
    assert kinds(session_factory, crisis_id) == ["declared"]


def test_a_declarer_who_owns_it_is_told_by_the_reply_and_no_dm(
    session_factory: SessionFactory, settings: Settings
) -> None:
    slack = RecordingSlack()
    request = declare_request(customer="Acme Corp", declared_by="U0ANA", owner_id="U0ANA")
    assert request.declarer_owns_it
    with session_factory() as session:
        crisis, _ = crises.store_declaration(Scope(session, slack, settings, T0), request=request)
        crises.finish_declaration(
            Scope(session, slack, settings, T0), crisis=crisis, dm_owner=False
        )
        assert [e.args["key"] for e in slack.named("post")] == [
            "crisis:1:card",
            "crisis:1:commitment",
        ]
        # Open, but until the reply is recorded the sweep's to-do is to DM her.
        assert crisis.status == "open" and not crisis.owner_told and crisis.pending_since == T0
        lifecycle.owner_told_by_reply(Scope(session, slack, settings, T0), crisis=crisis)
        assert crisis.owner_told and crisis.pending_since is None
        assert crisis.next_check_at == T0 + settings.cadence_sev2 - settings.reminder_lead


def test_a_failed_step_keeps_the_crisis_and_a_retry_finishes_without_a_second_channel(
    session_factory: SessionFactory, settings: Settings
) -> None:
    slack = RecordingSlack(fail_on={"pin": "ratelimited"})
    with pytest.raises(SlackFailure):
        declare(session_factory, slack, settings)
    with session_factory() as session:
        crisis = session.scalars(select(Crisis)).one()
        assert crisis.status == "declaring" and crisis.channel_id and crisis.card_ts
        slack.fail_on.clear()
        crises.finish_declaration(Scope(session, slack, settings, T0), crisis=crisis)
        assert crisis.status == "open" and crisis.commitment_pinned
    assert len(slack.named("create_channel")) == 1
    # The card, the commitment and the owner's DM, once each.
    assert [e.args["key"] for e in slack.named("post")] == [
        "crisis:1:owner",
        "crisis:1:card",
        "crisis:1:commitment",
    ]


def test_after_a_crash_resuming_adopts_what_slack_already_has(
    session_factory: SessionFactory, settings: Settings
) -> None:
    """The process died after Slack made the channel and the card, before we recorded them."""
    slack = RecordingSlack()
    crisis_id = declare(session_factory, slack, settings)
    with session_factory() as session:
        crisis = session.get(Crisis, crisis_id)
        assert crisis is not None
        channel, card = crisis.channel_id, crisis.card_ts
        crisis.status, crisis.channel_id, crisis.card_ts = "declaring", None, None
        crisis.commitment_ts, crisis.commitment_pinned, crisis.owner_told = None, False, False
        session.commit()
        slack.effects.clear()
        crises.finish_declaration(Scope(session, slack, settings, T0), crisis=crisis, resuming=True)
        assert (crisis.status, crisis.channel_id, crisis.card_ts) == ("open", channel, card)
    assert slack.named("create_channel") == [] and slack.named("post") == []
    assert [e.name for e in slack.effects] == [
        "find_channels",
        "set_topic",
        "invite",
        "find_posted",
        "find_posted",
        "find_posted",
        "pin",
    ]


def test_question_opens_nothing_and_points_to_self_service(
    session_factory: SessionFactory, settings: Settings
) -> None:
    slack = RecordingSlack()
    with pytest.raises(CrisisError) as raised:
        declare(session_factory, slack, settings, kind="question")
    assert "https://help.example.com" in str(raised.value)
    assert slack.effects == []
    with session_factory() as session:
        assert session.scalars(select(Crisis)).all() == []


def test_acknowledge_once_per_person_and_time_to_first_ack(
    session_factory: SessionFactory, settings: Settings
) -> None:
    slack = RecordingSlack()
    crisis_id = declare(session_factory, slack, settings)
    with session_factory() as session:
        crisis = crises.by_id(session, crisis_id)
        assert crisis is not None
        _, created = lifecycle.acknowledge(
            Scope(session, slack, settings, T0 + timedelta(minutes=3)),
            crisis=crisis,
            user_id="U0BEN",
            via="reaction",
        )
        _, again = lifecycle.acknowledge(
            Scope(session, slack, settings, T0 + timedelta(minutes=4)),
            crisis=crisis,
            user_id="U0BEN",
            via="button",
        )
        assert (created, again) == (True, False)
        assert crisis.seconds_to_first_ack == 180
        assert session.scalars(select(Acknowledgement)).all()[0].via == "reaction"
    card_edit = slack.named("update")[-1].args
    assert any("Acknowledged by <@U0BEN> in 3 min" in str(b) for b in card_edit["blocks"])


def test_update_renews_the_commitment_and_is_refused_when_closed(
    session_factory: SessionFactory, settings: Settings, clock: Clock
) -> None:
    slack = RecordingSlack()
    crisis_id = declare(session_factory, slack, settings)
    now = T0 + timedelta(minutes=40)
    with session_factory() as session:
        crisis = crises.by_id(session, crisis_id)
        assert crisis is not None
        crisis.last_nag_at = now
        crisis.nags_sent = 1
        update = lifecycle.post_update(
            Scope(session, slack, settings, now),
            crisis=crisis,
            author_id="U0ANA",
            content=UpdateContent(text="Root cause <!channel> found"),
        )
        assert update.next_update_due_at == now + timedelta(minutes=30)
        assert crisis.last_nag_at is None and crisis.nags_sent == 0
        posted = slack.named("post")[-1].args["text"]
        assert "Root cause &lt;!channel&gt; found" in posted and "<!channel>" not in posted
        lifecycle.close(
            Scope(session, slack, settings, now),
            crisis=crisis,
            actor_id="U0ANA",
            resolution="Fixed the ingest",
        )
        with pytest.raises(CrisisError, match="closed"):
            lifecycle.post_update(
                Scope(session, slack, settings, now),
                crisis=crisis,
                author_id="U0ANA",
                content=UpdateContent(text="more"),
            )
        assert crisis.next_check_at == now + settings.follow_up
        assert crisis.seconds_to_resolve == 40 * 60
    assert kinds(session_factory, crisis_id) == ["declared", "update", "closed"]


def test_too_many_responders_is_a_clear_error() -> None:
    with pytest.raises(CrisisError, match="200 responders is more than 50"):
        declare_request(
            customer="Acme",
            declared_by="U0ANA",
            owner_id="U0ANA",
            responders=[f"U{i:05d}" for i in range(200)],
        )


def test_hand_over_moves_nags_and_tells_both(
    session_factory: SessionFactory, settings: Settings
) -> None:
    slack = RecordingSlack()
    crisis_id = declare(session_factory, slack, settings)
    with session_factory() as session:
        crisis = crises.by_id(session, crisis_id)
        assert crisis is not None
        with pytest.raises(CrisisError, match="already owns"):
            lifecycle.hand_over(
                Scope(session, slack, settings, T0),
                crisis=crisis,
                actor_id="U0ANA",
                new_owner_id="U0ANA",
            )
        lifecycle.hand_over(
            Scope(session, slack, settings, T0),
            crisis=crisis,
            actor_id="U0ANA",
            new_owner_id="U0BEN",
        )
        assert crisis.owner_id == "U0BEN"
    assert {e.args["user"] for e in slack.named("dm")[-2:]} == {"U0ANA", "U0BEN"}


@dataclass
class WatchingSlack(RecordingSlack):
    """Notes every Slack effect asked for while ``session`` had a transaction open."""

    session: Session | None = None
    inside_transaction: list[str] = field(default_factory=list)

    def _record(self, effect: str, /, **args: Any) -> None:
        if self.session is not None and self.session.in_transaction():
            self.inside_transaction.append(effect)
        super()._record(effect, **args)


def test_no_transaction_is_held_open_across_a_slack_call(
    session_factory: SessionFactory, settings: Settings
) -> None:
    slack = WatchingSlack()
    crisis_id = declare(session_factory, slack, settings)
    with session_factory() as session:
        slack.session = session
        crisis = session.get(Crisis, crisis_id)  # its acknowledgements not loaded yet
        assert crisis is not None
        lifecycle.post_update(
            Scope(session, slack, settings, T0 + timedelta(minutes=5)),
            crisis=crisis,
            author_id="U0ANA",
            content=UpdateContent(text="Root cause found"),
        )
    # The card's edit loaded the acknowledgements first; that read was ended before Slack.
    assert [e.name for e in slack.effects][-4:] == ["post", "update", "update", "set_topic"]
    assert slack.inside_transaction == []
