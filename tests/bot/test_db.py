import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import StatementError

from bot.db.migrate import current_revision, head_revision, is_current, upgrade
from bot.db.models import Base, Crisis
from bot.db.session import SessionFactory, make_engine
from bot.enums import CrisisKind, CrisisStatus, Severity
from tests.postgres import fresh_database

# Every database test here runs on SQLite and on a real PostgreSQL.
BOTH_DATABASES = True


def test_migrations_build_exactly_the_models(session_factory: SessionFactory) -> None:
    engine = session_factory.kw["bind"]
    assert is_current(engine) and current_revision(engine) == head_revision()
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_sqlite_runs_with_wal_and_foreign_keys(session_factory: SessionFactory) -> None:
    if session_factory.kw["bind"].dialect.name != "sqlite":
        pytest.skip("SQLite pragmas; PostgreSQL has its own durability settings")
    with session_factory() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_timestamps_come_back_timezone_aware_utc(session_factory: SessionFactory) -> None:
    local = datetime(2026, 11, 22, 16, 0, tzinfo=timezone(timedelta(hours=2)))
    with session_factory() as session:
        crisis = Crisis(
            customer="Acme",
            kind="service_outage",
            severity="sev1",
            declared_by="U1",
            owner_id="U1",
            responders=[],
            cadence_seconds=60,
            declared_at=local,
        )
        session.add(crisis)
        session.commit()
        crisis_id = crisis.id
    with session_factory() as session:
        stored = session.get(Crisis, crisis_id)
        assert stored is not None
        assert stored.declared_at == datetime(2026, 11, 22, 14, 0, tzinfo=UTC)
        assert stored.declared_at.tzinfo is UTC


def test_states_are_stored_as_strings_and_come_back_as_members(
    session_factory: SessionFactory,
) -> None:
    with session_factory() as session:
        crisis = Crisis(
            customer="Acme",
            kind="service_outage",
            severity="sev1",
            declared_by="U1",
            owner_id="U1",
            responders=[],
            cadence_seconds=60,
            declared_at=datetime(2026, 11, 22, 14, 0, tzinfo=UTC),
        )
        session.add(crisis)
        session.commit()
        crisis_id = crisis.id
        row = session.execute(
            text("SELECT kind, severity, status FROM crises WHERE id = :id"), {"id": crisis_id}
        ).one()
        assert tuple(row) == ("service_outage", "sev1", "declaring")
        assert all(type(value) is str for value in row)
    with session_factory() as session:
        stored = session.get(Crisis, crisis_id)
        assert stored is not None
        assert stored.kind is CrisisKind.SERVICE_OUTAGE
        assert stored.severity is Severity.SEV1
        assert stored.status is CrisisStatus.DECLARING
        stored.status = "opne"  # type: ignore[assignment]
        with pytest.raises(StatementError, match="'opne' is not a valid CrisisStatus"):
            session.commit()


@pytest.mark.postgres
def test_replicas_starting_together_migrate_once(postgres_admin_url: str) -> None:
    url = fresh_database(postgres_admin_url)
    errors: list[BaseException] = []

    def start() -> None:
        try:
            upgrade(url)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    engine = make_engine(url)
    try:
        assert is_current(engine)
    finally:
        engine.dispose()
