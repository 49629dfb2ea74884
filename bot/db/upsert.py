"""INSERT that skips a row whose unique key is taken, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_or_skip(session: Session, model: type[Any]) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` into ``model``'s table for the session's database:
    with ``.returning()``, a row taken already returns nothing instead of raising."""
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(model).on_conflict_do_nothing()
