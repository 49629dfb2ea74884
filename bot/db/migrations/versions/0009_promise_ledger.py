"""the promise ledger: every promise of an update made to a customer, and how it ended

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

import bot.db.models

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "promises",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("crisis_id", sa.Integer(), nullable=False),
        sa.Column("made_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", bot.db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=8), nullable=True),
        sa.Column("told", sa.String(length=8), nullable=True),
        sa.Column("late_seconds", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["crisis_id"],
            ["crises.id"],
            name=op.f("fk_promises_crisis_id_crises"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promises")),
    )
    with op.batch_alter_table("promises", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_promises_crisis_id"), ["crisis_id"], unique=False)
    # The promise each crisis still open owes now: kept or broken like any other from here on.
    op.execute(
        "INSERT INTO promises (crisis_id, made_at, due_at)"
        " SELECT id, COALESCE(committed_at, declared_at), next_update_due_at FROM crises"
        " WHERE status IN ('open', 'declaring') AND next_update_due_at IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("promises", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_promises_crisis_id"))
    op.drop_table("promises")
