"""A session bound to a workspace reads, changes and counts only that workspace's rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from bot.db.models import Account, Crisis, CustomerPromise
from bot.db.session import SessionFactory
from bot.db.tenancy import for_team
from bot.enums import CrisisKind, Severity
from bot.services import accounts, ledger, workspaces
from tests.support import T0

BOTH_DATABASES = 1


def _crisis(session_factory: SessionFactory, team: str, customer: str) -> int:
    with for_team(session_factory, team)() as session:
        crisis = Crisis(
            customer=customer,
            kind=CrisisKind.TECHNICAL_ISSUE,
            severity=Severity.SEV1,
            declared_by="U1",
            owner_id="U1",
            cadence_seconds=1800,
            declared_at=T0,
            channel_id="C1",
        )
        session.add(crisis)
        session.flush()
        ledger.make(session, crisis=crisis, at=T0, due=T0 + timedelta(minutes=30))
        session.commit()
        return crisis.id


def test_each_workspace_sees_changes_and_counts_only_its_own(
    session_factory: SessionFactory,
) -> None:
    ours = _crisis(session_factory, "TA", "Acme")
    # The same channel id and customer in another workspace: no clash.
    theirs = _crisis(session_factory, "TB", "Acme")
    with for_team(session_factory, "TA")() as session:
        assert [c.id for c in session.scalars(select(Crisis))] == [ours]
        assert session.get(Crisis, theirs) is None
        assert session.scalar(select(func.count(CustomerPromise.id))) == 1
        assert ledger.promises_of(session, crisis_id=theirs) == []
        assert len(ledger.promises_of(session, crisis_id=ours)) == 1
        changed = session.execute(update(Crisis).values(customer="Changed"))
        assert getattr(changed, "rowcount", None) == 1
        session.commit()
    with session_factory() as session:  # unbound: the sweep's view, every workspace
        rows = {c.team_id: c.customer for c in session.scalars(select(Crisis))}
        assert rows == {"TA": "Changed", "TB": "Acme"}
        promises = {p.team_id for p in session.scalars(select(CustomerPromise))}
        assert promises == {"TA", "TB"}


def test_account_names_are_unique_per_workspace(session_factory: SessionFactory) -> None:
    for team in ("TA", "TB"):
        with for_team(session_factory, team)() as session:
            session.add(Account(name="Acme", name_key="acme", updated_at=T0))
            session.commit()
    with for_team(session_factory, "TB")() as session:
        found = accounts.find(session, "Acme")
        assert found is not None and found.team_id == "TB"
        assert len(accounts.all_accounts(session)) == 1
        session.add(Account(name="ACME", name_key="acme", updated_at=T0))
        with pytest.raises(IntegrityError):
            session.commit()


def test_a_single_workspace_bots_data_is_adopted_by_its_workspace(
    session_factory: SessionFactory,
) -> None:
    ours = _crisis(session_factory, "", "Acme")
    _crisis(session_factory, "TB", "Acme")
    with session_factory() as session:
        moved = workspaces.adopt(session=session, team_id="TA")
    assert moved == {"crises": 1, "promises": 1}
    with for_team(session_factory, "TA")() as session:
        assert [c.id for c in session.scalars(select(Crisis))] == [ours]
        assert len(ledger.promises_of(session, crisis_id=ours)) == 1
    with session_factory() as session:
        assert {c.team_id for c in session.scalars(select(Crisis))} == {"TA", "TB"}
