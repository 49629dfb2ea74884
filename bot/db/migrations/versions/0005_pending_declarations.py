"""declarations held back while the customer already has an open crisis

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

import bot.db.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_declarations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("declared_by", sa.String(length=32), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("existing_crisis_id", sa.Integer(), nullable=True),
        sa.Column("held_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["existing_crisis_id"],
            ["crises.id"],
            name=op.f("fk_pending_declarations_existing_crisis_id_crises"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_declarations")),
    )


def downgrade() -> None:
    op.drop_table("pending_declarations")
