"""Sessions bound to one Slack workspace: they read only its rows and stamp new rows with it.

A request from workspace T works in a session bound to T (``for_team``): every ORM query on a
table with a ``team_id`` column is filtered by ``team_id == T`` (SQLAlchemy's documented
``with_loader_criteria`` recipe for global criteria), and every row it adds gets ``team_id``
T. So a service cannot show, change or count another workspace's rows, even in a query that
forgets to say so. An unbound session (the sweep, the CLI) sees every workspace; rows it
adds take their crisis's workspace.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker, with_loader_criteria

from bot.db.models import Base, InWorkspace

TEAM_KEY = "team_id"


def for_team(factory: sessionmaker[Session], team_id: str) -> sessionmaker[Session]:
    """A session factory like ``factory`` whose sessions are bound to ``team_id``."""
    info = {**(factory.kw.get("info") or {}), TEAM_KEY: team_id}
    return sessionmaker(class_=factory.class_, **{**factory.kw, "info": info})


def team_of(session: Session) -> str | None:
    """The workspace ``session`` is bound to; None for an unbound session."""
    team = session.info.get(TEAM_KEY)
    return team if isinstance(team, str) else None


def _scoped_classes() -> list[type[Any]]:
    # Every mapped class with a team_id column, ours (InWorkspace) or any other lane's.
    return [mapper.class_ for mapper in Base.registry.mappers if "team_id" in mapper.columns]


def _criteria(cls: type[Any], team: str) -> Any:
    return with_loader_criteria(cls, lambda c: c.team_id == team, include_aliases=True)


@event.listens_for(Session, "do_orm_execute")
def _only_this_workspace(state: ORMExecuteState) -> None:
    team = team_of(state.session)
    if team is None or state.is_column_load or state.is_relationship_load:
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    state.statement = state.statement.options(*(_criteria(cls, team) for cls in _scoped_classes()))


@event.listens_for(Session, "before_flush")
def _stamp_new_rows(session: Session, _context: Any, _instances: Any) -> None:
    team = team_of(session)
    for row in session.new:
        if not isinstance(row, InWorkspace):
            continue
        if team is not None:
            row.team_id = team
        elif not row.team_id:
            crisis = getattr(row, "crisis", None)
            if crisis is not None and crisis.team_id:
                row.team_id = crisis.team_id
