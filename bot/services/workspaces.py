"""The workspaces the app is installed in, and whether their reminders run."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from bot.db.models import Base, Workspace


def installed(*, session: Session, team_id: str, name: str, now: datetime) -> None:
    """An install (or a reinstall) in ``team_id``: its reminders run (again)."""
    workspace = session.get(Workspace, team_id)
    if workspace is None:
        session.add(Workspace(team_id=team_id, name=name, installed_at=now))
    else:
        workspace.name = name or workspace.name
        workspace.installed_at = now
        workspace.uninstalled_at = None
    session.commit()


def uninstalled(*, session: Session, team_id: str, now: datetime) -> bool:
    """The app was uninstalled from ``team_id`` or its bot token revoked: its reminders stop;
    its crises, accounts and history stay. False if it was not installed through OAuth."""
    workspace = session.get(Workspace, team_id)
    if workspace is None:
        return False
    workspace.uninstalled_at = workspace.uninstalled_at or now
    session.commit()
    return True


def stopped() -> Select[str]:
    """The workspaces whose reminders stopped: a subquery for the sweep."""
    return select(Workspace.team_id).where(Workspace.uninstalled_at.is_not(None))


def adopt(*, session: Session, team_id: str) -> dict[str, int]:
    """Give the single-workspace bot's rows (workspace "") to ``team_id``, once that bot is
    installed through OAuth in its workspace; how many rows of each table moved."""
    moved: dict[str, int] = {}
    # Our tables only: slack_sdk's installation tables hold Slack's own team ids.
    mapped = {mapper.class_.__tablename__ for mapper in Base.registry.mappers}
    for table in Base.metadata.sorted_tables:
        if "team_id" not in table.c or table.name not in mapped or table.name == "workspaces":
            continue
        result = session.execute(update(table).where(table.c.team_id == "").values(team_id=team_id))
        count = int(getattr(result, "rowcount", 0) or 0)
        if count:
            moved[table.name] = count
    session.commit()
    return moved
